/**
 * @module
 * `autosentry analyze` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/analyze.ts, the implementation, only when
 * the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  addConfigOption(
    program
      .command("analyze")
      .description(
        "Summarise the attempts ledger: top failing detectors, per-rule success, regression streaks",
      ),
  )
    .option("--since <window>", "only attempts in this window: 600s, 30m, 24h, 7d (default: all)")
    .option("--json", "print the summary as JSON")
    .action(async (opts) => (await import("../commands/analyze.ts")).analyzeCommand(opts));
}
