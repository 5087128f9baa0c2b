/**
 * @module
 * `autosentry pause | resume | abort`: operator commands. With a monitor running they go through
 * its inbox (`.autosentry/control.jsonl`) and the command waits until the monitor has applied them;
 * without one, pause and resume set the durable desired state in state.json (the next `run`
 * honours it) and abort stops a child left running by a dead monitor.
 */

import type { Command } from "@commander-js/extra-typings";
import { type OperatorVerb as CliVerb, OperateError, operateOn } from "../../project/operate.ts";
import { addConfigOption, loadConfigForCli } from "../config-option.ts";
import { CliExit } from "../exit.ts";

async function operate(
  verb: CliVerb,
  opts: { config?: string; reason?: string; wait: boolean },
  detector: string | null = null,
): Promise<void> {
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  try {
    await operateOn(cfg, verb, opts, detector, (text) => process.stdout.write(text));
  } catch (err) {
    if (err instanceof OperateError) throw new CliExit(err.exitCode, err.message);
    throw err;
  }
}

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
    await operate("approve", opts, detector ?? null);
  });
  for (const [verb, description] of verbs) {
    const cmd = program
      .command(verb)
      .description(description)
      .option("-m, --reason <text>", "why (recorded in the journal)")
      .option("--no-wait", "return without waiting for the monitor to confirm");
    addConfigOption(cmd).action(async (opts) => {
      await operate(verb, opts);
    });
  }
}
