/**
 * @module
 * `autosentry status` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/status.ts, the implementation, only when
 * the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { markWritesSynchronously } from "../output-errors.ts";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const cmd = program
    .command("status")
    .description("show what the monitor and its child are doing (from state.json)")
    .option("--json", "print JSON");
  // Its output goes through writeStdoutSync: running it never creates process.stdout (output-errors.ts).
  markWritesSynchronously(cmd);
  addConfigOption(cmd).action(async (opts) => (await import("../commands/status.ts")).statusCommand(opts));
}
