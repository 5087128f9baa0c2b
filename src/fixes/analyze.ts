/**
 * @module
 * `autosentry analyze`: a summary of the attempts ledger, with the Python tool's tables and JSON.
 *
 * JSON shape (same keys and order as the Python tool):
 * `{ total, by_status: {status: n}, top_detectors: [[name, n]], rules: [{source, total, kept,
 * regressed, crashed, discarded, pending, success_rate}], detector_streaks: [{detector, total,
 * streak_status, streak_len}] }`. `success_rate` = kept ÷ terminal attempts (0 when none); a
 * streak is the run length of the most recent terminal status of a detector ("pending" and 0 when
 * it has no terminal attempt). Ties keep first-seen order, as Python's Counter and sort do.
 */
import type { Attempt, AttemptStatus } from "./ledger.ts";

export interface RuleStat {
  source: string;
  total: number;
  kept: number;
  regressed: number;
  crashed: number;
  discarded: number;
  pending: number;
  success_rate: number;
}

export interface DetectorStreak {
  detector: string;
  total: number;
  streak_status: AttemptStatus;
  streak_len: number;
}

export interface LedgerSummary {
  total: number;
  by_status: Record<string, number>;
  top_detectors: [string, number][];
  rules: RuleStat[];
  detector_streaks: DetectorStreak[];
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parse `--since` (`600s`, `30m`, `24h`, `7d`); empty or missing → null (no filter).
 * Throws with the Python tool's message on anything else.
 */
export function parseSince(value: string | null | undefined): number | null {
  if (!value) return null;
  const m = /^\s*(\d+)\s*([smhd])\s*$/i.exec(value);
  if (!m) throw new Error(`bad --since value '${value}' (expected like '24h', '30m', '7d', '600s')`);
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Epoch ms of an ISO-8601 timestamp; a timestamp without offset is UTC (as the Python tool). NaN when unparsable. */
export function parseIsoUtc(ts: string): number {
  const m = ISO_RE.exec(ts.trim());
  if (!m) return Number.NaN;
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  let ms = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  ms += Math.floor(frac);
  const off = m[8];
  if (off && off.toUpperCase() !== "Z") {
    const sign = off[0] === "-" ? -1 : 1;
    const digits = off.slice(1).replace(":", "");
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
    ms -= sign * minutes * 60_000;
  }
  return ms;
}

/** Rows inside the window; rows whose timestamp cannot be parsed are kept (never silently dropped). */
export function filterWindow(rows: readonly Attempt[], windowMs: number | null, now = Date.now()): Attempt[] {
  if (windowMs === null) return [...rows];
  const cutoff = now - windowMs;
  return rows.filter((r) => {
    const t = parseIsoUtc(r.timestamp);
    return Number.isNaN(t) || t >= cutoff;
  });
}

/** Sort descending by a count, keeping first-seen order among equals (Array.sort is stable). */
function byCountDesc<T>(items: T[], count: (t: T) => number): T[] {
  return items.sort((a, b) => count(b) - count(a));
}

/**
 * The summary built one row at a time (rows in file order), so a caller can summarise a ledger as it
 * reads it (src/fixes/ledger-scan.ts) without holding every row: it keeps per status, detector and
 * source a few counters, and per detector its latest terminal status and how many times in a row.
 */
export class SummaryBuilder {
  private total = 0;
  private readonly byStatus = new Map<string, number>();
  private readonly detectors = new Map<string, { total: number; last: AttemptStatus | null; run: number }>();
  private readonly sources = new Map<string, RuleStat>();

  add(r: Attempt): void {
    this.total++;
    this.byStatus.set(r.status, (this.byStatus.get(r.status) ?? 0) + 1);
    let d = this.detectors.get(r.detector);
    if (!d) {
      d = { total: 0, last: null, run: 0 };
      this.detectors.set(r.detector, d);
    }
    d.total++;
    if (r.status !== "pending") {
      if (r.status === d.last) d.run++;
      else {
        d.last = r.status;
        d.run = 1;
      }
    }
    let s = this.sources.get(r.source);
    if (!s) {
      s = {
        source: r.source,
        total: 0,
        kept: 0,
        regressed: 0,
        crashed: 0,
        discarded: 0,
        pending: 0,
        success_rate: 0,
      };
      this.sources.set(r.source, s);
    }
    s.total++;
    s[r.status]++;
  }

  /** The summary of the rows added so far (fresh objects each call). */
  result(topN = 10): LedgerSummary {
    const rules = byCountDesc(
      [...this.sources.values()].map((s) => ({ ...s })),
      (s) => s.total,
    );
    for (const s of rules) {
      const terminal = s.kept + s.regressed + s.crashed + s.discarded;
      s.success_rate = terminal === 0 ? 0 : s.kept / terminal;
    }
    const streaks: DetectorStreak[] = [];
    for (const [detector, d] of this.detectors) {
      streaks.push(
        d.last === null
          ? { detector, total: d.total, streak_status: "pending", streak_len: 0 }
          : { detector, total: d.total, streak_status: d.last, streak_len: d.run },
      );
    }
    return {
      total: this.total,
      by_status: Object.fromEntries(this.byStatus),
      top_detectors: byCountDesc(
        [...this.detectors].map(([name, d]): [string, number] => [name, d.total]),
        (t) => t[1],
      ).slice(0, topN),
      rules,
      detector_streaks: byCountDesc(streaks, (s) => s.total),
    };
  }
}

/** The summary `analyze` prints. */
export function summarize(rows: readonly Attempt[], topN = 10): LedgerSummary {
  const b = new SummaryBuilder();
  for (const r of rows) b.add(r);
  return b.result(topN);
}

/** `f"{x:.0f}"` as Python formats it: halves round to even. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Aligned columns; numeric columns (by index) are right-aligned. */
function table(title: string, rows: string[][], right: ReadonlySet<number>): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  const lines = rows.map((r) =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
  return `${title}\n${lines.join("\n")}\n`;
}

/** The human-readable report (`since` is the user's `--since` text, or null for all time). */
export function renderSummary(s: LedgerSummary, since: string | null): string {
  const parts: string[] = [];
  parts.push(`attempts — ${s.total} total${since ? ` (last ${since})` : ""}`);
  const statuses = Object.entries(s.by_status)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("  ");
  parts.push(`${statuses}\n`);
  if (s.top_detectors.length > 0) {
    parts.push(
      table(
        "top failing detectors",
        [["detector", "attempts"], ...s.top_detectors.map(([n, c]) => [n, String(c)])],
        new Set([1]),
      ),
    );
  }
  if (s.rules.length > 0) {
    parts.push(
      table(
        "per-rule success",
        [
          ["source (rule or claude)", "total", "kept", "regressed", "crashed", "pending", "success"],
          ...s.rules.map((r) => [
            r.source,
            String(r.total),
            String(r.kept),
            String(r.regressed),
            String(r.crashed),
            String(r.pending),
            `${pyRound(r.success_rate * 100)}%`,
          ]),
        ],
        new Set([1, 2, 3, 4, 5, 6]),
      ),
    );
  }
  const streaks = s.detector_streaks.filter((d) => d.streak_status === "regressed" && d.streak_len >= 2);
  if (streaks.length > 0) {
    parts.push(
      table(
        "regression streaks (heads up)",
        [["detector", "streak"], ...streaks.map((d) => [d.detector, `${d.streak_len}× regressed`])],
        new Set([1]),
      ),
    );
  }
  return parts.join("\n");
}
