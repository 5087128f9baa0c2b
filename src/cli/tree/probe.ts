/**
 * @module
 * `autosentry probe` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/probe.ts, the implementation, only when the
 * command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  addConfigOption(
    program
      .command("probe")
      .description("is the monitor alive, and which incidents wait for the Claude Code session (JSON)")
      .option(
        "--inject-prompt",
        "act as the Claude Code Stop hook (prints a block decision when there is work)",
      )
      .option("--advance-cursor <id>", "mark incidents up to this id as handled by the session")
      .option("-q, --quiet", "no summary line on stderr"),
  ).action(async (opts) => (await import("../commands/probe.ts")).probeCommand(opts));
}
