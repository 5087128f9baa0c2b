/**
 * @module
 * The Detector seam. A detector sees every line of the child's output, the child's exits and a
 * clock tick, and returns a {@link Detection} when something is wrong. Detectors are synchronous
 * and cheap: they run on the ingest hot path (target: over a million lines per second for the
 * default set). Cooldowns are applied by {@link DetectorSet}, not by each detector.
 */
import type { ChildExit, Detection, DetectorKind, Stream } from "../core/types.ts";
import type { RecentLines } from "./ring.ts";

export interface Detector {
  /** Configured name; rules match on it. */
  readonly name: string;
  readonly kind: DetectorKind;
  /** Minimum milliseconds between two detections that are passed on. */
  readonly cooldownMs: number;
  /** One line of output (no terminator, already cut to the line-length bound). */
  observeLine(text: string, stream: Stream, at: number, generation: number): Detection | null;
  /** The child ended. Called after its last line has been observed and after {@link flush}. */
  observeExit?(exit: ChildExit): Detection | null;
  /** Clock tick, about once a second. `childAlive` is false while no child runs. */
  observeTick?(now: number, childAlive: boolean, generation: number): Detection | null;
  /**
   * Look again at the recent lines (the shared ring) that arrived since the last look; for
   * detectors that do no work per line. See {@link DetectorSet.poll}.
   */
  poll?(at: number, generation: number): Detection | null;
  /** The child's output ended: close whatever is open (a trace without a terminating line). */
  flush?(at: number, generation: number): Detection | null;
  /** A new child was started: forget per-child state (stall clocks, open traces). */
  onChildStart?(generation: number, at: number): void;
  /**
   * Detections produced beyond the one a call returned (several traces closing on one tick or
   * flush). {@link DetectorSet} drains it after every call that returned a detection and after
   * every tick, flush and exit.
   */
  takePending?(): Detection | null;
  /**
   * Share a recent-lines ring kept by the caller ({@link DetectorSet}): from then on the caller
   * stores every line there before calling {@link observeLine}, and the detector takes its context
   * (and line numbers) from it instead of keeping a copy of its own.
   */
  useRecentLines?(lines: RecentLines): void;
}
