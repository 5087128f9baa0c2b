/**
 * @module
 * `autosentry scan` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/scan.ts, the implementation, only when the
 * command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const cmd = program
    .command("scan")
    .description(
      "run the detectors over an existing log file and list what they find (exit 0 either way: it is a report, not grep)",
    )
    .argument("<file>", "log file to scan")
    .option("--json", "one JSON object per detection, one per line");
  addConfigOption(cmd).action(async (file, opts) =>
    (await import("../commands/scan.ts")).scanCommand(file, opts),
  );
}
