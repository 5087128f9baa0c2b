/**
 * @module
 * The attempts page's data: the `analyze` summary of the (optionally windowed) ledger, and series
 * for its charts over time (attempts per day by status; each attempt's duration).
 *
 * Built as the ledger is read ({@link attemptsDataFromFile} scans it row by row): what is kept is
 * the summary's counters, the per-day counts, the newest 200 rows, and for the duration chart each
 * timed attempt's time and duration in blocks of Float64Array (16 bytes an attempt) — never the
 * rows as objects. At 100,000 rows that is 1.6 MB instead of the ledger's text, lines and objects.
 *
 * The duration chart is thinned to at most {@link MAX_DURATION_POINTS} points: with at most that many
 * timed attempts every one is a point (as before); above it, the span is cut into equal time buckets
 * and each of its MAX_DURATION_POINTS / 3 buckets gives three points: its fastest and its slowest attempt (at their own times, so
 * outliers stay visible where they happened) and its median (at the bucket's middle, so the typical
 * time to a verdict and its trend stay readable — with ~150 attempts a bucket at 100,000, minimum and maximum
 * alone would be two flat bands). The chart's title says so, with the numbers; the page's caption
 * says it in words. Cached answers are kept by the caller (src/web/project.ts).
 */
import { edenGC } from "bun:jsc";
import { type LedgerSummary, parseIsoUtc, parseSince, SummaryBuilder } from "../fixes/analyze.ts";
import { ATTEMPT_STATUSES, type Attempt } from "../fixes/ledger.ts";
import { scanLedger } from "../fixes/ledger-scan.ts";

export interface Chart {
  title: string;
  y: string;
  /** Epoch seconds. */
  x: number[];
  series: Array<{ label: string; values: Array<number | null> }>;
  points?: boolean;
}

export interface AttemptsData {
  schema_version: 1;
  since: string | null;
  summary: LedgerSummary;
  /** Newest first, at most 200. */
  recent: Attempt[];
  charts: { daily: Chart; duration: Chart };
}

const DAY = 86_400_000;
const RECENT = 200;
/** The duration chart's bound; above it the chart shows per time bucket the fastest, median and slowest. */
export const MAX_DURATION_POINTS = 2000;

/** A column of numbers read by index (a Float64Array is one). */
export interface Column {
  readonly length: number;
  at(i: number): number | undefined;
}

/**
 * A growing column of doubles in fixed blocks of 8,192 (64 KiB): growing never copies, and leaves
 * no discarded buffers behind (a doubling Float64Array left ~20 MB of them per 300,000-row scan,
 * which the collector freed too late to keep the peak down).
 */
class Floats implements Column {
  private readonly blocks: Float64Array[] = [];
  length = 0;
  push(v: number): void {
    const i = this.length & 8191;
    if (i === 0) this.blocks.push(new Float64Array(8192));
    this.blocks[this.blocks.length - 1]![i] = v;
    this.length++;
  }
  at(i: number): number | undefined {
    return i >= 0 && i < this.length ? this.blocks[i >> 13]![i & 8191] : undefined;
  }
}

/** Accumulates {@link AttemptsData} one ledger row at a time (rows in file order). */
export class AttemptsBuilder {
  private readonly cutoff: number | null;
  private readonly summary = new SummaryBuilder();
  private readonly recent: Attempt[] = [];
  private recentAt = 0;
  private readonly days = new Map<number, Record<string, number>>();
  private readonly times = new Floats();
  private readonly durations = new Floats();

  /** Throws on a bad `since` (the `--since` syntax). */
  constructor(
    private readonly since: string | null,
    now = Date.now(),
  ) {
    const windowMs = parseSince(since);
    this.cutoff = windowMs === null ? null : now - windowMs;
  }

  add(a: Attempt): void {
    const t = parseIsoUtc(a.timestamp);
    // filterWindow's rule: a row whose time cannot be parsed is kept, never silently dropped.
    if (this.cutoff !== null && !Number.isNaN(t) && t < this.cutoff) return;
    this.summary.add(a);
    if (this.recent.length < RECENT) this.recent.push(a);
    else {
      this.recent[this.recentAt] = a;
      this.recentAt = (this.recentAt + 1) % RECENT;
    }
    if (Number.isNaN(t)) return;
    const d = Math.floor(t / DAY) * DAY;
    let row = this.days.get(d);
    if (!row) {
      row = {};
      this.days.set(d, row);
    }
    row[a.status] = (row[a.status] ?? 0) + 1;
    this.times.push(t);
    this.durations.push(a.duration_seconds);
  }

  result(): AttemptsData {
    const dayKeys = [...this.days.keys()].sort((a, b) => a - b);
    const recent = [...this.recent.slice(this.recentAt), ...this.recent.slice(0, this.recentAt)].reverse();
    return {
      schema_version: 1,
      since: this.since,
      summary: this.summary.result(),
      recent,
      charts: {
        daily: {
          title: "Attempts per day by status",
          y: "attempts",
          x: dayKeys.map((d) => d / 1000),
          series: ATTEMPT_STATUSES.map((s) => ({
            label: s,
            values: dayKeys.map((d) => this.days.get(d)![s] ?? 0),
          })),
        },
        duration: durationChart(this.times, this.durations),
      },
    };
  }
}

/** Indices 0..n-1 ordered by time, file order among equal times (the stable sort the chart always used). */
function byTime(times: Column, idx: number[]): number[] {
  return idx.sort((i, j) => times.at(i)! - times.at(j)! || i - j);
}

/** The duration chart: every point up to `max`, else per time bucket the fastest, median and slowest. */
export function durationChart(times: Column, durations: Column, max = MAX_DURATION_POINTS): Chart {
  const n = times.length;
  if (n <= max) {
    const order = byTime(
      times,
      Array.from({ length: n }, (_, i) => i),
    );
    return {
      title: "Time to a verdict per attempt",
      y: "seconds",
      x: order.map((i) => times.at(i)! / 1000),
      series: [{ label: "duration", values: order.map((i) => durations.at(i)!) }],
      points: true,
    };
  }
  let t0 = Number.POSITIVE_INFINITY;
  let t1 = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = times.at(i)!;
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
  }
  const buckets = Math.floor(max / 3);
  const width = (t1 - t0) / buckets;
  const bucketOf = (t: number): number =>
    width === 0 ? 0 : Math.min(buckets - 1, Math.floor((t - t0) / width));
  // Group the durations by bucket (a counting sort), then sort each bucket's slice for its median.
  const counts = new Uint32Array(buckets + 1);
  for (let i = 0; i < n; i++) counts[bucketOf(times.at(i)!) + 1]!++;
  for (let b = 0; b < buckets; b++) counts[b + 1]! += counts[b]!;
  const starts = counts.slice(0, buckets);
  const fill = counts.slice(0, buckets);
  const grouped = new Float64Array(n);
  const fastest = new Int32Array(buckets).fill(-1);
  const slowest = new Int32Array(buckets).fill(-1);
  for (let i = 0; i < n; i++) {
    const b = bucketOf(times.at(i)!);
    grouped[fill[b]!++] = durations.at(i)!;
    if (fastest[b] === -1 || durations.at(i)! < durations.at(fastest[b]!)!) fastest[b] = i;
    if (slowest[b] === -1 || durations.at(i)! > durations.at(slowest[b]!)!) slowest[b] = i;
  }
  // One x value per point; a series has a value at its own points and null elsewhere.
  const pts: Array<{ x: number; kind: 0 | 1 | 2; v: number; i: number }> = [];
  for (let b = 0; b < buckets; b++) {
    const lo = starts[b]!;
    const hi = b + 1 < buckets ? starts[b + 1]! : n;
    if (hi === lo) continue;
    const slice = grouped.subarray(lo, hi).sort();
    const m = slice.length >> 1;
    const median = slice.length % 2 ? slice[m]! : (slice[m - 1]! + slice[m]!) / 2;
    const f = fastest[b]!;
    const s = slowest[b]!;
    pts.push({ x: times.at(f)!, kind: 0, v: durations.at(f)!, i: f });
    pts.push({ x: t0 + (b + 0.5) * width, kind: 1, v: median, i: n + b });
    if (s !== f) pts.push({ x: times.at(s)!, kind: 2, v: durations.at(s)!, i: s });
  }
  pts.sort((p, q) => p.x - q.x || p.i - q.i);
  const col = (kind: number): Array<number | null> => pts.map((p) => (p.kind === kind ? p.v : null));
  const minutes = width / 60_000;
  const span = minutes >= 120 ? `${(minutes / 60).toFixed(1)} h` : `${minutes.toFixed(1)} min`;
  return {
    title: `Time to a verdict: ${n} attempts, per ${span} bucket the fastest, the median and the slowest`,
    y: "seconds",
    x: pts.map((p) => p.x / 1000),
    series: [
      { label: "fastest", values: col(0) },
      { label: "median", values: col(1) },
      { label: "slowest", values: col(2) },
    ],
    points: true,
  };
}

/** Summary, newest rows and chart series of rows already in memory; throws on a bad `since`. */
export function attemptsData(rows: readonly Attempt[], since: string | null, now = Date.now()): AttemptsData {
  const b = new AttemptsBuilder(since, now);
  for (const r of rows) b.add(r);
  return b.result();
}

/**
 * The same for the ledger file, read row by row (src/fixes/ledger-scan.ts) so that no more than
 * the builder's state is held; a missing ledger is an empty one. Throws on a bad `since`.
 */
export function attemptsDataFromFile(file: string, since: string | null, now = Date.now()): AttemptsData {
  const b = new AttemptsBuilder(since, now);
  let n = 0;
  scanLedger(file, (r) => {
    b.add(r);
    // Each row leaves its line, fields and object behind: collect young garbage every 5,000 rows
    // (a fraction of a millisecond), as the journal index does on a first read, so a long ledger
    // does not pile up tens of MB before the lazy collector runs (peak RSS, docs/benchmarks.md).
    if (++n % 5_000 === 0) edenGC();
  });
  return b.result();
}
