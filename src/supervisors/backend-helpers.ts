/**
 * @module
 * Small pieces shared by the backends that drive an outside tool (slurm, docker) or follow a
 * process they did not start (attach): the one-line reason of a failed tool call, placeholder
 * substitution in user-configured command overrides, and handing a generation's exit to the sink
 * exactly once.
 */
import type { ChildExit } from "../core/types.ts";
import type { Logger } from "../util/logger.ts";
import type { RunCommandResult } from "../util/run-command.ts";
import type { SupervisorSink } from "./types.ts";

/** Why a tool call failed, in one line: its error, a timeout, or the first line it printed. */
export function firstLine(r: RunCommandResult): string {
  if (r.error) return r.error;
  if (r.timedOut) return "timed out";
  const text = (r.stderr.trim() || r.stdout.trim()).split("\n")[0] ?? "";
  return text || `exit code ${r.exitCode ?? r.signal}`;
}

/** A configured command override with `placeholder` (`{job_id}`, `{name}`) replaced everywhere. */
export function substitute(argv: string[], placeholder: string, value: string): string[] {
  return argv.map((a) => a.replaceAll(placeholder, value));
}

/** The state every backend keeps per generation to deliver its exit once. */
export interface Deliverable {
  generation: number;
  delivered: boolean;
  resolveExited: () => void;
}

/**
 * Mark `g` delivered, log `ended`, hand `exit` to the sink (a sink that throws is logged, never
 * propagated: the backend's own bookkeeping must go on) and release whoever waits for the exit.
 */
export function deliverExit(
  g: Deliverable,
  exit: ChildExit,
  sink: SupervisorSink,
  logger: Logger,
  ended: string,
): void {
  g.delivered = true;
  logger.info(ended);
  try {
    sink.exit(exit);
  } catch (err) {
    logger.error(
      `Supervisor sink failed on the exit of generation ${g.generation}: ${(err as Error).message}`,
    );
  }
  g.resolveExited();
}
