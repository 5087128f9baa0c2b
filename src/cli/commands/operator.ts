/**
 * @module
 * `autosentry pause | resume | abort`: operator commands. With a monitor running they go through
 * its inbox (`.autosentry/control.jsonl`) and the command waits until the monitor has applied them;
 * without one, pause and resume set the durable desired state in state.json (the next `run`
 * honours it) and abort stops a child left running by a dead monitor.
 */

import { type OperatorVerb as CliVerb, OperateError, operateOn } from "../../project/operate.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit } from "../exit.ts";

/** What `approve`, `pause`, `resume` and `abort` do (registered in src/cli/tree/operator.ts). */
export async function operate(
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
