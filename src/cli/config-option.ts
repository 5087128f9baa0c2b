/**
 * @module
 * The `-c/--config PATH` option every config-reading command shares, and loading the config for a
 * command: a bad config prints its errors (one `file:line:col: …` line each) and ends the command
 * with exit code 2, never with a stack trace.
 */
import type { Command, OptionValues } from "@commander-js/extra-typings";
import { ConfigError, type LoadedConfig, loadConfig } from "../config/load.ts";
import { CliExit, EXIT } from "./exit.ts";

/** Add `-c, --config <path>` to `cmd`. */
export function addConfigOption<
  Args extends unknown[],
  Opts extends OptionValues,
  Globals extends OptionValues,
>(cmd: Command<Args, Opts, Globals>) {
  return cmd.option(
    "-c, --config <path>",
    "config file (default: .autosentry/autosentry.yaml in this directory or a parent, else ./autosentry.yaml)",
  );
}

/**
 * Load the config named by `opts.config` (or found from the cwd). On a config error, print it to
 * stderr and throw `CliExit(2)`.
 */
export function loadConfigForCli(
  opts: { config?: string | undefined },
  { allowMissing = false, cwd }: { allowMissing?: boolean; cwd?: string } = {},
): LoadedConfig {
  try {
    return loadConfig({ path: opts.config, allowMissing, cwd });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      throw new CliExit(EXIT.usage);
    }
    throw err;
  }
}
