/**
 * @module
 * The exit-code detector: fires when the child ends badly. Never for an exit the monitor caused
 * (`stopped`); for a clean exit (`success`, code 0) only when `nonzero_only` is false. Scheduler
 * outcomes (preempted, timeout, …) always fire, whatever code they came with; an ending nobody can
 * explain (`unknown`) fires as `process ended; exit code unknown`.
 */
import type { ChildExit, Detection, Stream } from "../core/types.ts";
import { RecentLines, STREAM_CODE } from "./ring.ts";
import type { Detector } from "./types.ts";

const CONTEXT_LINES = 100;

export class ExitCodeDetector implements Detector {
  readonly kind = "exit_code" as const;
  private lines = new RecentLines(CONTEXT_LINES);
  private shared = false;

  constructor(
    readonly name: string,
    readonly nonzeroOnly: boolean,
    readonly cooldownMs: number,
  ) {}

  observeLine(text: string, stream: Stream, _at: number, _generation: number): Detection | null {
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    return null;
  }

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  observeExit(exit: ChildExit): Detection | null {
    const message = exitMessage(exit, this.nonzeroOnly);
    if (message === null) return null;
    const meta: Detection["meta"] = {
      exit_code: exit.code,
      signal: exit.signal,
      exit_class: exit.exitClass,
    };
    if (exit.detail !== undefined) meta["detail"] = exit.detail;
    return {
      detector: this.name,
      detectorKind: "exit_code",
      kind: "error",
      message,
      context: this.lines.recent(CONTEXT_LINES),
      meta,
      at: exit.at,
      generation: exit.generation,
    };
  }

  onChildStart(): void {
    if (!this.shared) this.lines.clear();
  }
}

/** The detection message for an exit, or null when the exit is not a failure to report. */
export function exitMessage(exit: ChildExit, nonzeroOnly: boolean): string | null {
  const code = exit.code;
  switch (exit.exitClass) {
    case "stopped":
      return null;
    case "success":
      return nonzeroOnly ? null : `process exited with code ${code ?? 0}`;
    case "unknown":
      return "process ended; exit code unknown";
    case "signal":
      if (exit.signal !== null) {
        return code !== null
          ? `process killed by ${exit.signal} (exit code ${code})`
          : `process killed by ${exit.signal}`;
      }
      return code !== null ? `process exited with code ${code}` : "process killed by a signal";
    case "failure":
      if (code === 0 && nonzeroOnly) return null;
      return code !== null ? `process exited with code ${code}` : "process failed; exit code unknown";
    default:
      // preempted, node_fail, timeout, oom, cancelled
      return code !== null
        ? `process exited with code ${code} (${exit.exitClass})`
        : `process ended: ${exit.exitClass}`;
  }
}
