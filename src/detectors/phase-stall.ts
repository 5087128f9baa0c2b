/**
 * @module
 * The phase-aware stall detector (a `stall` detector with `adaptive:`). A fixed no-progress
 * threshold is either too long for a fast training loop (a hang at 1 s/step waits 30 minutes) or
 * too short for a slow evaluation pass. This one learns the pace: it keeps the intervals between
 * progress lines of each *phase* (a phase is a named regex: `train: "step (\d+)"`,
 * `eval: "eval batch (\d+)"`; without phases, `metric_regex` or any line is the one phase) and
 * fires when the current phase (the one that made progress last) has been silent for
 * max(factor × its median interval, floor). Until a phase has `min_intervals` intervals its
 * threshold is the detector's `no_progress_seconds`, so a phase that has just begun is judged as
 * conservatively as a plain stall detector would judge it.
 *
 * Progress in a phase is a line of that phase whose number (group 1) differs from the phase's
 * previous one, or any line of it when the regex has no number. Numbers may go down (an evaluation
 * counts its batches from 1 again); a repeated number (the same step printed by several ranks) does
 * not count. Intervals are measured within a phase only: the gap at a phase switch belongs to neither.
 */
import type { Detection, Stream } from "../core/types.ts";
import { median, RollingWindow } from "./metric/rolling.ts";
import { RecentLines, STREAM_CODE } from "./ring.ts";
import type { Detector } from "./types.ts";

const CONTEXT_LINES = 50;

export interface PhaseSpec {
  name: string;
  /** null: every line is progress of this phase. */
  regex: RegExp | null;
}

export interface PhaseStallOptions {
  factor: number;
  floorMs: number;
  /** Threshold while the current phase has too few intervals to judge its pace. */
  fallbackMs: number;
  window: number;
  minIntervals: number;
}

interface PhaseState {
  spec: PhaseSpec;
  intervals: RollingWindow;
  lastAt: number | null;
  lastValue: string | null;
}

export class PhaseStallDetector implements Detector {
  readonly kind = "stall" as const;
  private lines = new RecentLines(CONTEXT_LINES);
  private shared = false;
  private readonly phases: PhaseState[];
  private current: PhaseState | null = null;
  private progressAt: number | null = null;
  /** When the clock last restarted (progress or a firing). */
  private clockAt: number | null = null;

  constructor(
    readonly name: string,
    phases: PhaseSpec[],
    private readonly o: PhaseStallOptions,
    readonly cooldownMs: number,
  ) {
    this.phases = phases.map((spec) => ({
      spec,
      intervals: new RollingWindow(o.window),
      lastAt: null,
      lastValue: null,
    }));
  }

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  observeLine(text: string, stream: Stream, at: number, _generation: number): Detection | null {
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    for (const ph of this.phases) {
      const re = ph.spec.regex;
      let value: string | null = null;
      if (re !== null) {
        re.lastIndex = 0;
        const m = re.exec(text);
        if (m === null) continue;
        value = m[1] ?? null;
        if (value !== null && value === ph.lastValue) return null;
      }
      if (ph.lastAt !== null && this.current === ph) ph.intervals.push(at - ph.lastAt);
      ph.lastAt = at;
      ph.lastValue = value;
      this.current = ph;
      this.progressAt = at;
      this.clockAt = at;
      return null;
    }
    return null;
  }

  /** The current phase's threshold in ms, and the median interval it is based on (null: too few). */
  threshold(): { ms: number; medianMs: number | null; phase: string | null } {
    const ph = this.current;
    if (ph === null || ph.intervals.length < this.o.minIntervals) {
      return { ms: this.o.fallbackMs, medianMs: null, phase: ph?.spec.name ?? null };
    }
    const med = median(ph.intervals.values());
    return { ms: Math.max(this.o.factor * med, this.o.floorMs), medianMs: med, phase: ph.spec.name };
  }

  observeTick(now: number, childAlive: boolean, generation: number): Detection | null {
    if (this.clockAt === null || this.progressAt === null) {
      this.clockAt = now;
      this.progressAt = now;
      return null;
    }
    if (!childAlive) return null;
    const t = this.threshold();
    if (now - this.clockAt < t.ms) return null;
    this.clockAt = now;
    const elapsed = Math.round((now - this.progressAt) / 1000);
    const limit = Math.round(t.ms / 1000);
    const pace =
      t.medianMs === null
        ? "its pace is not known yet"
        : `median interval ${(t.medianMs / 1000).toFixed(1)}s × ${this.o.factor}, floor ${this.o.floorMs / 1000}s`;
    return {
      detector: this.name,
      detectorKind: "stall",
      kind: "anomaly",
      message: `stall: no progress for ${elapsed}s in phase ${t.phase ?? "(none)"} (limit ${limit}s: ${pace})`,
      context: this.lines.recent(CONTEXT_LINES),
      meta: {
        elapsed_seconds: elapsed,
        phase: t.phase,
        threshold_seconds: limit,
        median_interval_seconds: t.medianMs === null ? null : t.medianMs / 1000,
        last_value: this.current?.lastValue ?? null,
      },
      at: now,
      generation,
    };
  }

  onChildStart(_generation: number, at: number): void {
    if (!this.shared) this.lines.clear();
    for (const ph of this.phases) {
      ph.intervals.clear();
      ph.lastAt = null;
      ph.lastValue = null;
    }
    this.current = null;
    this.progressAt = at;
    this.clockAt = at;
  }
}
