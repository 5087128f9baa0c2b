/**
 * @module
 * `autosentry explain` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/explain.ts, the implementation, only when
 * the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  addConfigOption(
    program
      .command("explain")
      .description(
        "Evidence bundle of the current (or a given) run: stop reason, events, log tail, incident reports, attempts; bounded and redacted",
      ),
  )
    .option("--json", "print the bundle as JSON")
    .option("-o, --output <file>", "write the bundle to this file instead of stdout")
    .option("--run-id <id>", "a run id (a monitor run or a pipeline run), any unique prefix of it, or last")
    .action(async (opts) => (await import("../commands/explain.ts")).explainCommand(opts));
}
