import { describe, expect, test } from "bun:test";
import { filterWindow, parseIsoUtc, parseSince, renderSummary, summarize } from "./analyze.ts";
import type { Attempt, AttemptStatus } from "./ledger.ts";

let n = 0;
function row(
  detector: string,
  source: string,
  status: AttemptStatus,
  timestamp = "2026-11-22T00:00:00+00:00",
): Attempt {
  n++;
  return {
    timestamp,
    incident_id: `i${n}`,
    detector,
    source,
    branch: "",
    status,
    duration_seconds: 0,
    description: "",
  };
}

describe("parseSince", () => {
  test("accepts Ns/Nm/Nh/Nd (any case, spaces), empty means all time", () => {
    expect(parseSince("600s")).toBe(600_000);
    expect(parseSince("30m")).toBe(1_800_000);
    expect(parseSince(" 24H ")).toBe(86_400_000);
    expect(parseSince("7d")).toBe(604_800_000);
    expect(parseSince("")).toBeNull();
    expect(parseSince(undefined)).toBeNull();
  });
  test("rejects anything else with the Python tool's message", () => {
    for (const bad of ["24", "1w", "1.5h", "-1h", "h", "24 hours"]) {
      expect(() => parseSince(bad)).toThrow(`bad --since value '${bad}'`);
    }
  });
});

describe("parseIsoUtc / filterWindow", () => {
  test("offsets, Z, fractions and naive (UTC) timestamps", () => {
    const t = Date.UTC(2026, 10, 22, 3, 4, 5);
    expect(parseIsoUtc("2026-11-22T03:04:05+00:00")).toBe(t);
    expect(parseIsoUtc("2026-11-22T03:04:05.123456+00:00")).toBe(t + 123);
    expect(parseIsoUtc("2026-11-22T03:04:05Z")).toBe(t);
    expect(parseIsoUtc("2026-11-22T03:04:05")).toBe(t);
    expect(parseIsoUtc("2026-11-22 05:04:05+02:00")).toBe(t);
    expect(parseIsoUtc("2026-11-21T22:04:05-0500")).toBe(t);
    expect(parseIsoUtc("yesterday")).toBeNaN();
  });
  test("keeps rows inside the window and rows with unparsable timestamps", () => {
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const rows = [
      row("a", "r", "kept", "2026-11-22T11:00:00+00:00"),
      row("b", "r", "kept", "2026-11-21T11:00:00+00:00"),
      row("c", "r", "kept", "garbage"),
      row("d", "r", "kept", "2026-11-22T11:30:00"),
    ];
    expect(filterWindow(rows, 3_600_000, now).map((r) => r.detector)).toEqual(["a", "c", "d"]);
    expect(filterWindow(rows, null, now)).toHaveLength(4);
  });
});

describe("summarize", () => {
  test("counts, top detectors, per-source stats and tail streaks as the Python tool", () => {
    const rows = [
      row("oom", "halve_batch", "kept"),
      row("oom", "halve_batch", "regressed"),
      row("traceback", "claude", "kept"),
      row("oom", "halve_batch", "regressed"),
      row("nan", "claude", "pending"),
      row("oom", "claude", "crashed"),
      row("traceback", "claude", "pending"),
      row("oom", "halve_batch", "pending"),
      row("stall", "restart", "discarded"),
      row("oom", "claude", "regressed"),
      row("oom", "claude", "regressed"),
    ];
    const s = summarize(rows);
    expect(s.total).toBe(11);
    expect(Object.keys(s.by_status)).toEqual(["kept", "regressed", "pending", "crashed", "discarded"]);
    expect(s.by_status).toEqual({ kept: 2, regressed: 4, pending: 3, crashed: 1, discarded: 1 });
    expect(s.top_detectors).toEqual([
      ["oom", 7],
      ["traceback", 2],
      ["nan", 1],
      ["stall", 1],
    ]);
    expect(s.rules).toEqual([
      {
        source: "claude",
        total: 6,
        kept: 1,
        regressed: 2,
        crashed: 1,
        discarded: 0,
        pending: 2,
        success_rate: 0.25,
      },
      {
        source: "halve_batch",
        total: 4,
        kept: 1,
        regressed: 2,
        crashed: 0,
        discarded: 0,
        pending: 1,
        success_rate: 1 / 3,
      },
      {
        source: "restart",
        total: 1,
        kept: 0,
        regressed: 0,
        crashed: 0,
        discarded: 1,
        pending: 0,
        success_rate: 0,
      },
    ]);
    expect(s.detector_streaks).toEqual([
      { detector: "oom", total: 7, streak_status: "regressed", streak_len: 2 },
      { detector: "traceback", total: 2, streak_status: "kept", streak_len: 1 },
      { detector: "nan", total: 1, streak_status: "pending", streak_len: 0 },
      { detector: "stall", total: 1, streak_status: "discarded", streak_len: 1 },
    ]);
  });

  test("top detectors are cut at 10", () => {
    const rows = Array.from({ length: 12 }, (_, i) => row(`d${i}`, "r", "kept"));
    expect(summarize(rows).top_detectors).toHaveLength(10);
  });
});

describe("renderSummary", () => {
  test("title, status line, the three tables; the streak table only for ≥2 regressed", () => {
    const out = renderSummary(
      summarize([
        row("oom", "halve_batch", "regressed"),
        row("oom", "halve_batch", "regressed"),
        row("tb", "claude", "kept"),
        row("tb", "claude", "kept"),
        row("tb", "claude", "kept"),
        row("tb", "claude", "kept"),
        row("tb", "claude", "kept"),
        row("tb", "claude", "kept"),
        row("tb", "claude", "kept"),
        row("tb", "claude", "regressed"),
      ]),
      "24h",
    );
    expect(out).toBe(
      [
        "attempts — 10 total (last 24h)",
        "kept=7  regressed=3",
        "",
        "top failing detectors",
        "detector  attempts",
        "tb               8",
        "oom              2",
        "",
        "per-rule success",
        "source (rule or claude)  total  kept  regressed  crashed  pending  success",
        "claude                       8     7          1        0        0      88%",
        "halve_batch                  2     0          2        0        0       0%",
        "",
        "regression streaks (heads up)",
        "detector        streak",
        "oom       2× regressed",
        "",
      ].join("\n"),
    );
    expect(renderSummary(summarize([row("a", "r", "regressed")]), null)).not.toContain("regression streaks");
  });

  test("percentages round half to even, as Python's format does", () => {
    const rows = [row("a", "r", "kept"), ...Array.from({ length: 7 }, () => row("a", "r", "crashed"))];
    expect(renderSummary(summarize(rows), null)).toContain(" 12%");
  });
});
