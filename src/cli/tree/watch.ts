/**
 * @module
 * `autosentry watch` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/watch.ts, the implementation, only when the
 * command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";
import { refreshSeconds } from "./parsers.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const cmd = program
    .command("watch")
    .description("terminal dashboard: state, restarts, newest incidents, detectors, log tail (q quits)")
    .option("--once", "print one frame and exit")
    .option("--root <dir>", "every project under DIR that has a .autosentry/ folder")
    .option("--refresh <seconds>", "how often the files are checked", refreshSeconds, 1);
  addConfigOption(cmd).action(async (opts) => (await import("../commands/watch.ts")).watchCommand(opts));
}
