/**
 * @module
 * A failure episode: the detections of one child generation gathered between the first detection
 * and the decision (after `monitor.settle_seconds`, or at once when the child exits). One episode
 * becomes one incident.
 */
import type { Detection } from "../core/types.ts";

export interface Episode {
  generation: number;
  detections: Detection[];
  openedAt: number;
  timer: ReturnType<typeof setTimeout> | null;
  /** Set when the episode continues an incident that was already written (an exit after a logged trace). */
  incident: { id: string; dir: string } | null;
}

/**
 * The detection that names the incident: the first one carrying a trace (it has the exception
 * type, message and frames), else the first error, else the first detection. If the chosen one has
 * no trace but another detection of the episode does, the trace is borrowed so the incident always
 * carries the best evidence available.
 */
export function primaryDetection(detections: Detection[]): Detection {
  const withTrace = detections.find((d) => d.trace !== undefined);
  const chosen = withTrace ?? detections.find((d) => d.kind === "error") ?? detections[0]!;
  if (chosen.trace === undefined) {
    const donor = detections.find((d) => d.trace !== undefined);
    if (donor)
      return { ...chosen, trace: donor.trace, exceptionType: chosen.exceptionType ?? donor.exceptionType };
  }
  return chosen;
}
