/**
 * @module
 * The attempts page's data: the `analyze` summary of the (optionally windowed) ledger, and series
 * for its charts over time (attempts per day by status; each attempt's duration).
 */
import { filterWindow, type LedgerSummary, parseIsoUtc, parseSince, summarize } from "../fixes/analyze.ts";
import { ATTEMPT_STATUSES, type Attempt } from "../fixes/ledger.ts";

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

/** Summary, newest rows and chart series; throws on a bad `since`. */
export function attemptsData(rows: Attempt[], since: string | null, now = Date.now()): AttemptsData {
  const windowMs = parseSince(since);
  const picked = filterWindow(rows, windowMs, now);
  const timed = picked
    .map((a) => ({ a, t: parseIsoUtc(a.timestamp) }))
    .filter((x) => !Number.isNaN(x.t))
    .sort((p, q) => p.t - q.t);
  const days = new Map<number, Record<string, number>>();
  for (const { a, t } of timed) {
    const d = Math.floor(t / DAY) * DAY;
    const row = days.get(d) ?? {};
    row[a.status] = (row[a.status] ?? 0) + 1;
    days.set(d, row);
  }
  const dayKeys = [...days.keys()].sort((a, b) => a - b);
  return {
    schema_version: 1,
    since,
    summary: summarize(picked),
    recent: picked.slice(-200).reverse(),
    charts: {
      daily: {
        title: "Attempts per day by status",
        y: "attempts",
        x: dayKeys.map((d) => d / 1000),
        series: ATTEMPT_STATUSES.map((s) => ({ label: s, values: dayKeys.map((d) => days.get(d)![s] ?? 0) })),
      },
      duration: {
        title: "Time to a verdict per attempt",
        y: "seconds",
        x: timed.map((x) => x.t / 1000),
        series: [{ label: "duration", values: timed.map((x) => x.a.duration_seconds) }],
        points: true,
      },
    },
  };
}
