/**
 * @module
 * Loading the config for a command (the `-c/--config PATH` option itself is in tree/config-flag.ts):
 * a bad config prints its errors (one `file:line:col: …` line each) and ends the command with exit
 * code 2, never with a stack trace.
 */
import { ConfigError, type LoadedConfig, loadConfig } from "../config/load.ts";
import { CliExit, EXIT } from "./exit.ts";

export { addConfigOption, type ConfigFlag } from "./tree/config-flag.ts";

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
