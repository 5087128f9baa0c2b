import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { filterWindow, parseIsoUtc, parseSince, summarize } from "../fixes/analyze.ts";
import {
  ATTEMPT_STATUSES,
  type Attempt,
  formatAttempt,
  isoTimestamp,
  LEDGER_COLUMNS,
  ledgerPath,
  readLedger,
} from "../fixes/ledger.ts";
import { attemptsDataFromFile, durationChart, MAX_DURATION_POINTS } from "./attempts-data.ts";
import { loadProjectConfig, WebProject } from "./project.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-attempts-data-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const STATUSES = ["pending", "kept", "kept", "regressed", "crashed", "discarded", "weird"];

/**
 * A seeded ledger of `rows` attempts one `stepMs` apart ending at NOW, with garbage between them:
 * blank and torn lines, rows without an incident id or a time, CRLF rows, offsets and naive times,
 * a time `Date.parse` reads but the window cannot (kept by the window, absent from the charts).
 */
function ledger(name: string, rows: number, stepMs: number, seed = 1): string {
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const parts: string[] = [`${LEDGER_COLUMNS.join("\t")}\n`];
  for (let i = 0; i < rows; i++) {
    const t = NOW - (rows - i) * stepMs;
    let line = formatAttempt({
      timestamp: isoTimestamp(t),
      incident_id: `inc-${i}`,
      detector: `detector_${rand(7)}`,
      source: ["claude", "manual", "rule_a", "rule_b", "rule_c"][rand(5)]!,
      branch: "",
      status: "kept",
      duration_seconds: rand(900) + 0.25,
      description: `failure ${rand(1000)}`,
    }).replace("\tkept\t", `\t${STATUSES[rand(STATUSES.length)]}\t`);
    // Every tenth attempt is one detector's, always regressed: a long tail streak.
    if (i % 10 === 0)
      line = line.replace(/\tdetector_\d\t/, "\tstreaky\t").replace(/\t[a-z]+(\t[\d.]+\t)/, "\tregressed$1");
    switch (rand(12)) {
      case 0:
        line = line.replace(/\n$/, "\r\n");
        break;
      case 1:
        line = line.replace(/^\S+/, new Date(t).toISOString().replace("Z", "-02:00"));
        break;
      case 2:
        line = line.replace(/^\S+/, new Date(t).toISOString().slice(0, 19)); // naive: UTC
        break;
      case 3:
        parts.push("\n", "torn line without tabs\n", `\tinc-x\td\ts\t\tkept\t1.0\tno time\n`);
        break;
      case 4:
        parts.push(`${isoTimestamp(t)}\t\td\ts\t\tkept\t1.0\tno incident id\n`);
        break;
      case 5:
        line = line.replace(/^\S+/, "Dec 1 2026 10:00:00"); // Date.parse reads it, parseIsoUtc does not
        break;
      case 6:
        line = line.replace(/\t[\d.]+\t/, "\tnot-a-number\t");
        break;
    }
    parts.push(line);
  }
  const file = path.join(dir, `${name}.tsv`);
  fs.writeFileSync(file, parts.join(""));
  return file;
}

/** What the attempts page computed before it streamed (the whole ledger read into rows). */
function reference(rows: Attempt[], since: string | null) {
  const picked = filterWindow(rows, parseSince(since), NOW);
  const timed = picked
    .map((a) => ({ a, t: parseIsoUtc(a.timestamp) }))
    .filter((x) => !Number.isNaN(x.t))
    .sort((p, q) => p.t - q.t);
  const days = new Map<number, Record<string, number>>();
  for (const { a, t } of timed) {
    const d = Math.floor(t / 86_400_000) * 86_400_000;
    const row = days.get(d) ?? {};
    row[a.status] = (row[a.status] ?? 0) + 1;
    days.set(d, row);
  }
  const dayKeys = [...days.keys()].sort((a, b) => a - b);
  return {
    summary: summarize(picked),
    recent: picked.slice(-200).reverse(),
    daily: {
      x: dayKeys.map((d) => d / 1000),
      series: ATTEMPT_STATUSES.map((s) => ({ label: s, values: dayKeys.map((d) => days.get(d)![s] ?? 0) })),
    },
    duration: { x: timed.map((x) => x.t / 1000), values: timed.map((x) => x.a.duration_seconds) },
  };
}

// The summary before it was built row by row (git: src/fixes/analyze.ts at the parent of this
// change), kept here as an independent oracle for the incremental streaks.
function oldSummarize(rows: readonly Attempt[]) {
  const detectors = new Map<string, { total: number; terminal: string[] }>();
  for (const r of rows) {
    const d = detectors.get(r.detector) ?? { total: 0, terminal: [] };
    detectors.set(r.detector, d);
    d.total++;
    if (r.status !== "pending") d.terminal.push(r.status);
  }
  return [...detectors].map(([detector, d]) => {
    const last = d.terminal[d.terminal.length - 1];
    let len = 0;
    for (let i = d.terminal.length - 1; last !== undefined && i >= 0 && d.terminal[i] === last; i--) len++;
    return { detector, streak_status: last ?? "pending", streak_len: len };
  });
}

describe("attemptsDataFromFile (the ledger summarised as it is read)", () => {
  const cases: Array<[string, number, number, Array<string | null>]> = [
    ["small", 300, 3_600_000, [null, "2d", "600s"]],
    ["large", 30_000, 60_000, [null, "7d", "24h", "30m"]],
  ];
  for (const [name, rows, step, windows] of cases) {
    test(`${name} ledger (${rows} rows with garbage): summary, newest rows and daily counts as before`, () => {
      const file = ledger(name, rows, step);
      const all = readLedger(file);
      for (const since of windows) {
        const got = attemptsDataFromFile(file, since, NOW);
        const want = reference(all, since);
        expect(got.since).toBe(since);
        expect(got.summary).toEqual(want.summary);
        expect(got.summary.total).toBeGreaterThan(0);
        expect(got.recent).toEqual(want.recent);
        expect({ x: got.charts.daily.x, series: got.charts.daily.series }).toEqual(want.daily);
        const streaks = got.summary.detector_streaks.map(({ detector, streak_status, streak_len }) => ({
          detector,
          streak_status,
          streak_len,
        }));
        expect(new Set(streaks.map((s) => JSON.stringify(s)))).toEqual(
          new Set(oldSummarize(filterWindow(all, parseSince(since), NOW)).map((s) => JSON.stringify(s))),
        );
        const dur = got.charts.duration;
        if (want.duration.x.length <= MAX_DURATION_POINTS) {
          expect(dur.x).toEqual(want.duration.x);
          expect(dur.series).toEqual([{ label: "duration", values: want.duration.values }]);
        } else {
          expect(dur.x.length).toBeLessThanOrEqual(MAX_DURATION_POINTS);
          expect(dur.title).toContain(`${want.duration.x.length} attempts`);
          // The overall fastest and slowest attempts are among the points, at their own times.
          const fast = dur.series.find((s) => s.label === "fastest")!.values;
          const slow = dur.series.find((s) => s.label === "slowest")!.values;
          const lo = Math.min(...want.duration.values);
          const hi = Math.max(...want.duration.values);
          expect(Math.min(...(fast.filter((v) => v !== null) as number[]))).toBe(lo);
          expect(Math.max(...(slow.filter((v) => v !== null) as number[]))).toBe(hi);
          const i = want.duration.values.indexOf(hi);
          expect(dur.x[slow.indexOf(hi)]).toBe(want.duration.x[i]!);
        }
      }
      expect(() => attemptsDataFromFile(file, "1w", NOW)).toThrow("bad --since value '1w'");
    });
  }

  test("an empty ledger, a header-only one and a missing one give the empty answer", () => {
    const empty = path.join(dir, "empty.tsv");
    fs.writeFileSync(empty, "");
    const headerOnly = path.join(dir, "header.tsv");
    fs.writeFileSync(headerOnly, `${LEDGER_COLUMNS.join("\t")}\n`);
    for (const file of [empty, headerOnly, path.join(dir, "missing.tsv")]) {
      for (const since of [null, "24h"]) {
        const got = attemptsDataFromFile(file, since, NOW);
        expect(got.summary).toEqual(summarize([]));
        expect(got.recent).toEqual([]);
        expect(got.charts.daily.x).toEqual([]);
        expect(got.charts.duration.x).toEqual([]);
      }
    }
  });
});

describe("durationChart (thinned above MAX_DURATION_POINTS)", () => {
  test("every point up to the bound, in time order (file order among equal times)", () => {
    const t = Float64Array.from([3000, 1000, 2000, 1000]);
    const d = Float64Array.from([3, 1, 2, 4]);
    const c = durationChart(t, d, 4);
    expect(c.x).toEqual([1, 1, 2, 3]);
    expect(c.series).toEqual([{ label: "duration", values: [1, 4, 2, 3] }]);
  });

  test("above it: per bucket the fastest and slowest at their times and the exact median", () => {
    // 3 buckets over [0, 9000] ms; bucket 0 holds t=0..2000, bucket 1 t=3000..5000, bucket 2 t=6000..9000.
    const t = Float64Array.from([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
    const d = Float64Array.from([5, 1, 9, 4, 4, 4, 10, 2, 6, 8]);
    const c = durationChart(t, d, 9);
    const col = (label: string) => c.series.find((s) => s.label === label)!.values;
    const at = (label: string) =>
      c.x.flatMap((x, i) => (col(label)[i] === null ? [] : [[x * 1000, col(label)[i]] as const]));
    expect(at("fastest")).toEqual([
      [1000, 1],
      [3000, 4],
      [7000, 2],
    ]);
    expect(at("slowest")).toEqual([
      [2000, 9],
      [6000, 10],
    ]); // bucket 1: all equal, its one attempt is the fastest and the slowest
    expect(at("median")).toEqual([
      [1500, 5],
      [4500, 4],
      [7500, 7],
    ]);
    expect(c.x.length).toBeLessThanOrEqual(9);
    expect([...c.x]).toEqual([...c.x].sort((a, b) => a - b));
    expect(c.title).toContain("10 attempts");
  });

  test("100,000 points become at most 2,000", () => {
    const n = 100_000;
    const t = Float64Array.from({ length: n }, (_, i) => NOW - (n - i) * 60_000);
    const d = Float64Array.from({ length: n }, (_, i) => (i * 7919) % 900);
    const c = durationChart(t, d);
    expect(c.x.length).toBeLessThanOrEqual(MAX_DURATION_POINTS);
    expect(c.x.length).toBeGreaterThan(MAX_DURATION_POINTS / 2);
    for (const s of c.series) expect(s.values).toHaveLength(c.x.length);
  });
});

describe("WebProject.attemptsData (cached per since while the ledger is unchanged)", () => {
  test("answers again from the cache, and afresh once the ledger changes", () => {
    const root = fs.mkdtempSync(path.join(dir, "project-"));
    fs.mkdirSync(path.join(root, ".autosentry"));
    const p = new WebProject("p", "p", loadProjectConfig(root));
    expect(p.attemptsData(null).summary.total).toBe(0); // no ledger yet
    const line = (i: number): string =>
      formatAttempt({
        timestamp: isoTimestamp(Date.now() - 60_000),
        incident_id: `inc-${i}`,
        detector: "oom",
        source: "claude",
        branch: "",
        status: "kept",
        duration_seconds: i,
        description: "",
      });
    fs.writeFileSync(ledgerPath(root), `${LEDGER_COLUMNS.join("\t")}\n${line(1)}`);
    const all = p.attemptsData(null);
    const day = p.attemptsData("24h");
    expect([all.summary.total, day.summary.total]).toEqual([1, 1]);
    expect(p.attemptsData(null)).toBe(all);
    expect(p.attemptsData("24h")).toBe(day);
    fs.appendFileSync(ledgerPath(root), line(2));
    expect(p.attemptsData(null).summary.total).toBe(2);
    expect(p.attemptsData("24h").summary.total).toBe(2);
    expect(() => p.attemptsData("1w")).toThrow("bad --since value '1w'");
  });
});
