/**
 * @module
 * The metric detector: one named numeric series (loss, grad_norm, lr, samples/s, …) read from the
 * child's lines and judged by its conditions (see conditions.ts). A detection says which series and
 * which condition (`meta.metric`, `meta.condition`, what rules match on), the value and the step,
 * and carries the recent points of the series for the incident's metrics section.
 *
 * Points are also buffered for the on-disk series (docs/signals.md); the monitor drains them with
 * {@link MetricDetector.takePoints} on its tick, so the per-line path does no I/O.
 */
import type { Detection, SeriesPoint, Stream } from "../../core/types.ts";
import { RecentLines, STREAM_CODE } from "../ring.ts";
import type { Detector } from "../types.ts";
import { fmt, type MetricCondition } from "./conditions.ts";
import type { KeyReader, ValueReader } from "./extract.ts";

const CONTEXT_LINES = 50;
/** Points kept per series for a detection's metrics section. */
export const DETECTION_POINTS = 60;
/** Points buffered for the on-disk series between two drains (older ones are dropped). */
const PENDING_MAX = 10_000;

export class MetricDetector implements Detector {
  readonly kind = "metric" as const;
  private lines = new RecentLines(CONTEXT_LINES);
  private shared = false;
  private readonly recent: SeriesPoint[] = [];
  private pending: SeriesPoint[] = [];
  private pendingFound: Detection[] = [];
  /** Last step seen on a line with the value (for steps-lost accounting and messages). */
  lastStep: number | null = null;

  constructor(
    readonly name: string,
    /** The series name (`loss`). */
    readonly metric: string,
    private readonly reader: ValueReader,
    private readonly stepReader: KeyReader | null,
    private readonly conditions: MetricCondition[],
    readonly cooldownMs: number,
  ) {}

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  observeLine(text: string, stream: Stream, at: number, generation: number): Detection | null {
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    const value = this.reader.read(text);
    if (value === null) return null;
    const step = this.stepReader?.read(text) ?? null;
    if (step !== null && Number.isFinite(step)) this.lastStep = step;
    const p: SeriesPoint = { at, step: step !== null && Number.isFinite(step) ? step : null, value };
    this.recent.push(p);
    if (this.recent.length > DETECTION_POINTS) this.recent.shift();
    this.pending.push(p);
    if (this.pending.length > PENDING_MAX) this.pending.splice(0, this.pending.length - PENDING_MAX);
    let first: Detection | null = null;
    for (const c of this.conditions) {
      const f = c.observe(p);
      if (f === null) continue;
      const d = this.detection(f.condition, f.message, f.meta, p.step, at, generation);
      if (first === null) first = d;
      else this.pendingFound.push(d);
    }
    return first;
  }

  observeTick(now: number, childAlive: boolean, generation: number): Detection | null {
    if (!childAlive) return null;
    let first: Detection | null = null;
    for (const c of this.conditions) {
      const f = c.tick?.(now) ?? null;
      if (f === null) continue;
      const d = this.detection(f.condition, f.message, f.meta, this.lastStep, now, generation);
      if (first === null) first = d;
      else this.pendingFound.push(d);
    }
    return first;
  }

  takePending(): Detection | null {
    return this.pendingFound.shift() ?? null;
  }

  onChildStart(_generation: number, at: number): void {
    if (!this.shared) this.lines.clear();
    for (const c of this.conditions) c.reset(at);
    this.pendingFound = [];
    // the recent points stay: a restarted run's report still shows what the last one did
  }

  /** Points read since the last call, oldest first (for the on-disk series). */
  takePoints(): SeriesPoint[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** The last points read (at most {@link DETECTION_POINTS}), oldest first. */
  recentPoints(): SeriesPoint[] {
    return [...this.recent];
  }

  private detection(
    condition: string,
    what: string,
    meta: Record<string, number | string | null>,
    step: number | null,
    at: number,
    generation: number,
  ): Detection {
    const out: Detection["meta"] = {};
    // meta is JSON: non-finite numbers are spelled out (JSON would write them as null)
    for (const [k, v] of Object.entries(meta))
      out[k] = typeof v === "number" && !Number.isFinite(v) ? fmt(v) : v;
    return {
      detector: this.name,
      detectorKind: "metric",
      kind: condition === "nan" ? "error" : "anomaly",
      message: `metric ${this.metric} ${what}${step !== null ? ` at step ${step}` : ""}`,
      context: this.lines.recent(CONTEXT_LINES),
      meta: { ...out, metric: this.metric, condition, step },
      series: [{ name: this.metric, points: this.recentPoints() }],
      at,
      generation,
    };
  }
}
