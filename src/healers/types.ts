/**
 * @module
 * The Healer seam. A healer gets a detection (and the detections that arrived with it) after its
 * incident folder exists, and answers with an outcome or null ("I don't know").
 */
import type { Detection, HealerOutcome } from "../core/types.ts";

export interface HealContext {
  incidentId: string;
  /** Absolute path of the incident folder (report.md, trace.txt, … already written). */
  incidentDir: string;
  /** The first detection of the failure. */
  detection: Detection;
  /** Every detection gathered for this failure, in arrival order (includes `detection`). */
  related: Detection[];
  /** Aborted when the monitor stops or the failure is superseded. */
  signal: AbortSignal;
  /** Healers add sentences here that end up in the incident (e.g. "the agent gave no valid action"). */
  notes?: string[];
}

export interface Healer {
  readonly name: string;
  heal(ctx: HealContext): Promise<HealerOutcome | null>;
  /**
   * Whether {@link heal} would answer these detections with an outcome, told without running it
   * and without side effects (issue 13: the monitor writes the outcome of a failure nobody acts on
   * with its incident folder, instead of rewriting the folder after the restart). Only a healer
   * whose answer depends on nothing but the detections has it (the rules); absent: it cannot be
   * told without healing.
   */
  wouldAct?(related: Detection[]): boolean;
}
