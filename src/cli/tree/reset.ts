/**
 * @module
 * `autosentry reset` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/reset.ts, the implementation, only when the
 * command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const cmd = program
    .command("reset")
    .description("Put restart counters, pauses and healing budgets back to a fresh start (history kept)")
    .option("-m, --reason <text>", "why (recorded in reset_history and reset.log)", "manual reset")
    .option("--full", "also clear the restart history and anomalies (needs --force)")
    .option("-f, --force", "confirm --full")
    .option("--no-restart", "accepted for compatibility: reset never starts the monitor")
    .option("--no-wait", "return without waiting for a running monitor to confirm");
  addConfigOption(cmd).action(async (opts) => (await import("../commands/reset.ts")).resetCommand(opts));
}
