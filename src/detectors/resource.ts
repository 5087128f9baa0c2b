/**
 * @module
 * The resource detector: judges readings of sampled resources (disk, host memory, the child's tree
 * RSS and fds, GPU memory, utilisation, ECC and Xid; src/signals takes them, the monitor feeds them
 * in with {@link ResourceDetector.observeReading}) against warn and critical levels. A detection
 * names the resource as `meta.metric` and the level as `meta.condition` (`warn` / `critical`), so
 * rules read `match: {metric: disk, condition: critical}`.
 *
 * A level fires when it is reached (ok → warn, warn → critical, ok → critical) and has held for
 * `sustain_seconds` (GPU utilisation is only worth a word when it stays low); it re-arms when the
 * value is back under it. Detections made between ticks come out on the next tick.
 */
import type { Detection, ResourceReading, SeriesPoint } from "../core/types.ts";
import { fmt } from "./metric/conditions.ts";
import type { Detector } from "./types.ts";

export interface ResourceLimit {
  /** `above`: the value must stay at or below the levels; `below`: at or above them. */
  direction: "above" | "below";
  warn: number | null;
  critical: number | null;
  sustainMs: number;
  /** For messages: `%`, ` bytes`, … */
  unit: "percent" | "bytes" | "count";
}

type Level = 0 | 1 | 2;

interface SubjectState {
  level: Level;
  /** Since when the value has been at `pendingLevel` (null: not above the fired level). */
  since: number | null;
  pendingLevel: Level;
  points: SeriesPoint[];
}

const POINTS = 60;

function human(v: number, unit: ResourceLimit["unit"]): string {
  if (unit === "percent") return `${fmt(v)} %`;
  if (unit === "bytes") {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let x = v;
    let i = 0;
    while (Math.abs(x) >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${fmt(x)} ${units[i]}`;
  }
  return fmt(v);
}

export class ResourceDetector implements Detector {
  readonly kind = "resource" as const;
  private readonly state = new Map<string, SubjectState>();
  private readonly queue: Detection[] = [];
  private generation = 0;

  constructor(
    readonly name: string,
    private readonly limits: Readonly<Record<string, ResourceLimit>>,
    readonly cooldownMs: number,
  ) {}

  /** Resources this detector has limits for (the monitor samples only these). */
  resources(): string[] {
    return Object.keys(this.limits);
  }

  observeLine(): Detection | null {
    return null;
  }

  /** One reading; a detection it causes comes out on the next tick. */
  observeReading(r: ResourceReading): void {
    const lim = this.limits[r.resource];
    if (!lim) return;
    const key = `${r.resource}\u0000${r.subject}`;
    let st = this.state.get(key);
    if (!st) {
      st = { level: 0, since: null, pendingLevel: 0, points: [] };
      this.state.set(key, st);
    }
    st.points.push({ at: r.at, step: null, value: r.value });
    if (st.points.length > POINTS) st.points.shift();
    const past = (t: number | null) => t !== null && (lim.direction === "above" ? r.value > t : r.value < t);
    const level: Level = past(lim.critical) ? 2 : past(lim.warn) ? 1 : 0;
    if (level <= st.level) {
      // back under a level re-arms it; staying at the fired level does nothing
      st.level = level;
      st.since = null;
      st.pendingLevel = 0;
      return;
    }
    if (st.since === null || st.pendingLevel !== level) {
      st.since = r.at;
      st.pendingLevel = level;
    }
    if (r.at - st.since < lim.sustainMs) return;
    st.level = level;
    st.since = null;
    const condition = level === 2 ? "critical" : "warn";
    const bound = (level === 2 ? lim.critical : lim.warn)!;
    const rel = lim.direction === "above" ? "above" : "below";
    const held = lim.sustainMs > 0 ? ` for ${Math.round(lim.sustainMs / 1000)}s` : "";
    this.queue.push({
      detector: this.name,
      detectorKind: "resource",
      kind: level === 2 ? "error" : "anomaly",
      message: `resource ${r.resource} ${r.subject}: ${human(r.value, lim.unit)} is ${rel} the ${condition} level ${human(bound, lim.unit)}${held}${r.detail ? ` (${r.detail})` : ""}`,
      context: [],
      meta: { metric: r.resource, condition, subject: r.subject, value: r.value, level: bound },
      series: [{ name: `${r.resource} ${r.subject}`, points: [...st.points] }],
      at: r.at,
      generation: this.generation,
    });
  }

  observeTick(_now: number, _alive: boolean, generation: number): Detection | null {
    this.generation = generation;
    const d = this.queue.shift() ?? null;
    if (d) d.generation = generation;
    return d;
  }

  takePending(): Detection | null {
    const d = this.queue.shift() ?? null;
    if (d) d.generation = this.generation;
    return d;
  }

  onChildStart(generation: number): void {
    this.generation = generation;
    // per-child resources (rss, fds) start over; host ones re-fire for the new child if still bad
    this.state.clear();
  }
}
