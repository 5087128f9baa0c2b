/**
 * @module
 * The conditions a metric series is judged by, one class each, all pure: they see the series'
 * points (and, for time-based ones, the clock) and say when something is wrong. Each condition
 * fires once per occurrence and re-arms when the series is healthy again, so a NaN loss that stays
 * NaN is one finding, not one per line (the detector set's cooldown is a second guard).
 *
 * - `nan`: the value is NaN or ±Infinity.
 * - `spike`: the value is above `factor` × the rolling median of the previous `window` values, or
 *   (with `zscore`) more than that many standard deviations above their mean. Needs `min_points`
 *   values first.
 * - `plateau`: no improvement beyond `epsilon` for `steps` steps or `seconds` seconds. Points of the
 *   warm-up (`warmup_steps` / `warmup_seconds` after the child starts) are ignored entirely: the
 *   best value and the clock start after it (a learning-rate warm-up often holds or raises the loss).
 * - `drop`: the value stays below `percent` % of the rolling median for `seconds` (throughput).
 *   Values in the low state do not enter the window, so a long collapse does not become the new
 *   normal; the clock is also checked on ticks, so a collapse is seen even when points then stop.
 * - `above` / `below`: a bound.
 */
import type { SeriesPoint } from "../../core/types.ts";
import { RollingWindow } from "./rolling.ts";

/** What a condition found. */
export interface Finding {
  /** Condition name, as rules match it (`nan`, `spike`, `plateau`, `drop`, `above`, `below`). */
  condition: string;
  /** Human text after the series name: `is NaN`, `spiked to 12.3 (10.2 × median 1.2)`. */
  message: string;
  /** Numbers for rules and reports (no nesting). */
  meta: Record<string, number | string | null>;
}

export interface MetricCondition {
  readonly name: string;
  observe(p: SeriesPoint): Finding | null;
  /** Time-based conditions look at the clock too (about once a second). */
  tick?(now: number): Finding | null;
  /** A new child started at `at`: forget everything. */
  reset(at: number): void;
}

/** Round for messages: 4 significant digits, non-finite values spelled out. */
export function fmt(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** Non-finite values. Re-arms on the next finite value. */
export class NanCondition implements MetricCondition {
  readonly name = "nan";
  private armed = true;

  observe(p: SeriesPoint): Finding | null {
    if (Number.isFinite(p.value)) {
      this.armed = true;
      return null;
    }
    if (!this.armed) return null;
    this.armed = false;
    const what = Number.isNaN(p.value) ? "NaN" : fmt(p.value);
    return { condition: "nan", message: `is ${what}`, meta: { value: what } };
  }

  reset(): void {
    this.armed = true;
  }
}

export interface SpikeOptions {
  /** Fire above factor × rolling median (ignored when zscore is set). */
  factor: number;
  /** Fire above mean + zscore × std of the window. */
  zscore?: number | undefined;
  window: number;
  min_points: number;
}

/** A value far above its recent past. */
export class SpikeCondition implements MetricCondition {
  readonly name = "spike";
  private readonly win: RollingWindow;

  constructor(private readonly o: SpikeOptions) {
    this.win = new RollingWindow(o.window);
  }

  observe(p: SeriesPoint): Finding | null {
    const v = p.value;
    if (!Number.isFinite(v)) return null;
    let found: Finding | null = null;
    if (this.win.length >= this.o.min_points) {
      if (this.o.zscore !== undefined) {
        const { mean, std } = this.win.meanStd();
        // a perfectly flat window has std 0: any rise would be infinitely many deviations
        const z = std > 0 ? (v - mean) / std : 0;
        if (z > this.o.zscore) {
          found = {
            condition: "spike",
            message: `spiked to ${fmt(v)} (z-score ${fmt(z)} over the last ${this.win.length} values, limit ${this.o.zscore})`,
            meta: { value: v, zscore: z, mean, std },
          };
        }
      } else {
        const med = this.win.median();
        if (med > 0 && v > this.o.factor * med) {
          found = {
            condition: "spike",
            message: `spiked to ${fmt(v)} (${fmt(v / med)} × the rolling median ${fmt(med)}, limit ${this.o.factor}×)`,
            meta: { value: v, median: med, ratio: v / med },
          };
        }
      }
    }
    this.win.push(v);
    return found;
  }

  reset(): void {
    this.win.clear();
  }
}

export interface PlateauOptions {
  /** An improvement must beat the best value by more than this. */
  epsilon: number;
  /** `min`: lower is better (a loss); `max`: higher is better (an accuracy). */
  mode: "min" | "max";
  /** Fire after this many steps without improvement (0 = not by steps). */
  steps: number;
  /** Fire after this many seconds without improvement (0 = not by time). */
  seconds: number;
  warmup_steps: number;
  warmup_seconds: number;
}

/** No improvement for a while, judged only after the warm-up. */
export class PlateauCondition implements MetricCondition {
  readonly name = "plateau";
  private startedAt: number | null = null;
  private firstStep: number | null = null;
  private best = Number.NaN;
  private bestAt = 0;
  private bestStep = 0;
  /** Points seen after warm-up: the step count when the log has no step. */
  private ordinal = 0;

  constructor(private readonly o: PlateauOptions) {}

  private inWarmup(p: SeriesPoint): boolean {
    this.startedAt ??= p.at;
    if (p.step !== null) this.firstStep ??= p.step;
    if (this.o.warmup_seconds > 0 && p.at - this.startedAt < this.o.warmup_seconds * 1000) return true;
    if (this.o.warmup_steps > 0) {
      // steps as the log counts them when it says them (a resumed run starts at its checkpoint's)
      const done = p.step !== null && this.firstStep !== null ? p.step - this.firstStep : this.ordinal;
      if (p.step === null) this.ordinal++;
      if (done < this.o.warmup_steps) return true;
    }
    return false;
  }

  observe(p: SeriesPoint): Finding | null {
    if (!Number.isFinite(p.value)) return null;
    if (this.inWarmup(p)) return null;
    const step = p.step ?? this.ordinal++;
    const better =
      Number.isNaN(this.best) ||
      (this.o.mode === "min" ? p.value < this.best - this.o.epsilon : p.value > this.best + this.o.epsilon);
    if (better) {
      this.best = p.value;
      this.bestAt = p.at;
      this.bestStep = step;
      return null;
    }
    const bySteps = this.o.steps > 0 && step - this.bestStep >= this.o.steps;
    const bySeconds = this.o.seconds > 0 && p.at - this.bestAt >= this.o.seconds * 1000;
    if (!bySteps && !bySeconds) return null;
    const steps = step - this.bestStep;
    const secs = Math.round((p.at - this.bestAt) / 1000);
    // fire once per period: the clock restarts as if the plateau's current value were the best
    this.bestAt = p.at;
    this.bestStep = step;
    return {
      condition: "plateau",
      message: `has not improved beyond ${fmt(this.best)} (ε ${this.o.epsilon}) for ${bySteps ? `${steps} steps` : `${secs}s`}`,
      meta: { value: p.value, best: this.best, steps, seconds: secs },
    };
  }

  reset(): void {
    this.startedAt = null;
    this.firstStep = null;
    this.best = Number.NaN;
    this.ordinal = 0;
  }
}

export interface DropOptions {
  /** Low means below this percentage of the rolling median. */
  percent: number;
  /** For this long. */
  seconds: number;
  window: number;
  min_points: number;
}

/** A throughput that falls and stays low. */
export class DropCondition implements MetricCondition {
  readonly name = "drop";
  private readonly win: RollingWindow;
  private lowSince: number | null = null;
  private lowValue = 0;
  private baseline = 0;
  private fired = false;

  constructor(private readonly o: DropOptions) {
    this.win = new RollingWindow(o.window);
  }

  observe(p: SeriesPoint): Finding | null {
    const v = p.value;
    if (!Number.isFinite(v)) return null;
    if (this.win.length >= this.o.min_points) {
      const med = this.win.median();
      if (med > 0 && v < (this.o.percent / 100) * med) {
        this.lowSince ??= p.at;
        this.lowValue = v;
        this.baseline = med;
        return this.check(p.at);
      }
    }
    this.lowSince = null;
    this.fired = false;
    this.win.push(v);
    return null;
  }

  tick(now: number): Finding | null {
    return this.lowSince === null ? null : this.check(now);
  }

  private check(now: number): Finding | null {
    if (this.fired || this.lowSince === null || now - this.lowSince < this.o.seconds * 1000) return null;
    this.fired = true;
    const secs = Math.round((now - this.lowSince) / 1000);
    return {
      condition: "drop",
      message: `dropped to ${fmt(this.lowValue)} (${fmt((100 * this.lowValue) / this.baseline)} % of the rolling median ${fmt(this.baseline)}, limit ${this.o.percent} %) for ${secs}s`,
      meta: { value: this.lowValue, median: this.baseline, seconds: secs },
    };
  }

  reset(): void {
    this.win.clear();
    this.lowSince = null;
    this.fired = false;
  }
}

/** A value above (or below) a fixed bound. Re-arms when back within it. */
export class BoundCondition implements MetricCondition {
  private armed = true;

  constructor(
    readonly name: "above" | "below",
    private readonly bound: number,
  ) {}

  observe(p: SeriesPoint): Finding | null {
    const v = p.value;
    if (Number.isNaN(v)) return null;
    const out = this.name === "above" ? v > this.bound : v < this.bound;
    if (!out) {
      this.armed = true;
      return null;
    }
    if (!this.armed) return null;
    this.armed = false;
    return {
      condition: this.name,
      message: `is ${fmt(v)}, ${this.name} the bound ${fmt(this.bound)}`,
      meta: { value: v, bound: this.bound },
    };
  }

  reset(): void {
    this.armed = true;
  }
}
