/**
 * @module
 * The stall detector. With a `metric_regex`, progress is group 1 (or the whole match) read as a
 * number that must go beyond the highest value seen for the current child (equal or lower does not
 * count; a value that is not a number counts when it differs from the last one). Without one, any
 * line is progress. It fires only while the child is alive, after `no_progress_seconds` without
 * progress, and then only again after another full period; a new child starts everything over.
 */
import type { Detection, Stream } from "../core/types.ts";
import { LineRing } from "./ring.ts";
import type { Detector } from "./types.ts";

const CONTEXT_LINES = 50;

export class StallDetector implements Detector {
  readonly kind = "stall" as const;
  private readonly ring = new LineRing(CONTEXT_LINES);
  /** When progress was last seen (null: no child start or tick seen yet). */
  private progressAt: number | null = null;
  /** When the clock was last restarted (progress or a firing). */
  private clockAt: number | null = null;
  private best = Number.NEGATIVE_INFINITY;
  private lastValue: string | null = null;

  constructor(
    readonly name: string,
    readonly metric: RegExp | null,
    readonly noProgressMs: number,
    readonly cooldownMs: number,
  ) {}

  observeLine(text: string, _stream: Stream, at: number, _generation: number): Detection | null {
    this.ring.push(text);
    const re = this.metric;
    if (re === null) {
      this.progressAt = at;
      this.clockAt = at;
      return null;
    }
    const m = re.exec(text);
    if (m === null) return null;
    const raw = m[1] ?? m[0];
    const v = Number(raw);
    if (raw !== "" && !Number.isNaN(v)) {
      if (v <= this.best) return null;
      this.best = v;
    } else if (raw === this.lastValue) {
      return null;
    }
    this.lastValue = raw;
    this.progressAt = at;
    this.clockAt = at;
    return null;
  }

  observeTick(now: number, childAlive: boolean, generation: number): Detection | null {
    if (this.clockAt === null || this.progressAt === null) {
      // no child start was seen: the clock starts now
      this.clockAt = now;
      this.progressAt = now;
      return null;
    }
    if (!childAlive || now - this.clockAt < this.noProgressMs) return null;
    this.clockAt = now;
    const elapsed = Math.round((now - this.progressAt) / 1000);
    const message =
      this.metric === null
        ? `stall: no output for ${elapsed}s`
        : `stall: no progress for ${elapsed}s (value='${this.lastValue ?? ""}')`;
    return {
      detector: this.name,
      detectorKind: "stall",
      kind: "anomaly",
      message,
      context: this.ring.toArray(),
      meta: { elapsed_seconds: elapsed, last_value: this.lastValue },
      at: now,
      generation,
    };
  }

  onChildStart(_generation: number, at: number): void {
    this.ring.clear();
    this.progressAt = at;
    this.clockAt = at;
    this.best = Number.NEGATIVE_INFINITY;
    this.lastValue = null;
  }
}
