/**
 * @module
 * `autosentry approve|pause|resume|abort` in the command tree: names, arguments, options and
 * descriptions, loaded at every start (the whole tree is built for help, completion and
 * suggestions; only this part to run one of its commands). Each action imports
 * ../commands/operator.ts, the implementation, only when the command runs (issue 13;
 * docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import type { OperatorVerb as CliVerb } from "../../project/operate.ts";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const verbs: Array<[CliVerb, string]> = [
    ["pause", "stop the child and keep it stopped (across monitor restarts) until resume"],
    ["resume", "start the child again after a pause"],
    ["abort", "stop the child and the monitor (exit code 130)"],
  ];
  const approve = program
    .command("approve")
    .argument("[detector]", "the detector whose healing resumes (default: all)")
    .description(
      "resume healing paused by the hourly budget or by a regression (regression_action: escalate)",
    )
    .option("-m, --reason <text>", "why (recorded in the journal)")
    .option("--no-wait", "return without waiting for the monitor to confirm");
  addConfigOption(approve).action(async (detector, opts) => {
    await (await import("../commands/operator.ts")).operate("approve", opts, detector ?? null);
  });
  for (const [verb, description] of verbs) {
    const cmd = program
      .command(verb)
      .description(description)
      .option("-m, --reason <text>", "why (recorded in the journal)")
      .option("--no-wait", "return without waiting for the monitor to confirm");
    addConfigOption(cmd).action(async (opts) => {
      await (await import("../commands/operator.ts")).operate(verb, opts);
    });
  }
}
