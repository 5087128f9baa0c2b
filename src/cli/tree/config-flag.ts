/**
 * @module
 * The `-c/--config PATH` option every config-reading command shares. Loading the config is in
 * ../config-option.ts, which a command's implementation imports; this half is all the command
 * tree needs, so that registering the option does not load the config schema (issue 13).
 */
import type { Command, OptionValues } from "@commander-js/extra-typings";

/** The option's value, as a command's implementation receives it. */
export interface ConfigFlag {
  config?: string | undefined;
}

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
