/**
 * Pattern, stall and exit-code detectors; building detectors from specs; the default set.
 */
import { describe, expect, test } from "bun:test";
import type { ChildExit } from "../core/types.ts";
import { buildDetectors } from "./build.ts";
import { DEFAULT_DETECTOR_SPECS } from "./defaults.ts";
import { ExitCodeDetector } from "./exit-code.ts";
import { PatternDetector } from "./pattern.ts";
import { scanText } from "./scanner.ts";
import { StallDetector } from "./stall.ts";
import { fixture } from "./traceback/test-helpers.ts";

const spec = (s: Record<string, unknown>) =>
  ({ stream: "any", no_progress_seconds: 1800, nonzero_only: true, ...s }) as never;

describe("pattern", () => {
  test("the message is the line itself; meta has the match, the whole line and the groups", () => {
    const d = new PatternDetector("oom", /(CUDA) out of (memory)(x)?/, "any", 0);
    expect(d.observeLine("step 1", "stdout", 1, 1)).toBeNull();
    const r = d.observeLine("RuntimeError: CUDA out of memory. Tried", "stderr", 2, 3)!;
    expect(r.message).toBe("RuntimeError: CUDA out of memory. Tried");
    expect(r.kind).toBe("error");
    expect(r.meta).toEqual({
      match: "CUDA out of memory",
      line: "RuntimeError: CUDA out of memory. Tried",
      group1: "CUDA",
      group2: "memory",
    });
    expect(r.context).toEqual(["step 1", "RuntimeError: CUDA out of memory. Tried"]);
    expect([r.at, r.generation]).toEqual([2, 3]);
  });

  test("the message is cut to 300 characters around the match, the match at 200, the line at 500", () => {
    const d = new PatternDetector("p", /x+/, "any", 0);
    const r = d.observeLine("x".repeat(800), "stdout", 0, 1)!;
    expect(r.message).toBe(`${"x".repeat(300)}…`);
    expect(r.meta["match"]).toBe("x".repeat(200));
    expect((r.meta["line"] as string).length).toBe(500);
    const far = new PatternDetector("p", /FATAL: \w+/, "any", 0).observeLine(
      `  ${"a".repeat(400)} FATAL: disk ${"b".repeat(400)}`,
      "stdout",
      0,
      1,
    )!;
    expect(far.message).toBe(`…${"a".repeat(99)} FATAL: disk ${"b".repeat(188)}…`);
    expect(far.message.length).toBe(302);
  });

  test("a stream filter ignores the other stream but not lines read from a file", () => {
    const d = new PatternDetector("p", /boom/, "stderr", 0);
    expect(d.observeLine("boom", "stdout", 0, 1)).toBeNull();
    expect(d.observeLine("boom", "stderr", 0, 1)).not.toBeNull();
    expect(d.observeLine("boom", "log", 0, 1)).not.toBeNull();
  });

  test("context is bounded to the last 50 lines", () => {
    const d = new PatternDetector("p", /boom/, "any", 0);
    for (let i = 0; i < 120; i++) d.observeLine(`line ${i}`, "stdout", 0, 1);
    const r = d.observeLine("boom", "stdout", 0, 1)!;
    expect(r.context.length).toBe(50);
    expect(r.context[0]).toBe("line 71");
  });
});

describe("stall with a metric", () => {
  const make = () => new StallDetector("stall", /(?:step|iter)\s+(\d+)/, 100_000, 0);

  test("fires after the period without progress, only while the child is alive", () => {
    const d = make();
    d.onChildStart(1, 0);
    d.observeLine("step 10 loss 1.0", "stdout", 1_000, 1);
    expect(d.observeTick(100_999, true, 1)).toBeNull();
    expect(d.observeTick(101_000, false, 1)).toBeNull();
    const r = d.observeTick(101_000, true, 1)!;
    expect(r.kind).toBe("anomaly");
    expect(r.message).toBe("stall: no progress for 100s (value='10')");
    expect(r.meta).toEqual({ elapsed_seconds: 100, last_value: "10" });
  });

  test("an equal or lower value is not progress; a higher one is", () => {
    const d = make();
    d.onChildStart(1, 0);
    d.observeLine("step 10", "stdout", 0, 1);
    d.observeLine("step 10", "stdout", 50_000, 1);
    d.observeLine("step 3", "stdout", 60_000, 1);
    d.observeLine("iter 10", "stdout", 70_000, 1);
    expect(d.observeTick(100_000, true, 1)?.message).toBe("stall: no progress for 100s (value='10')");
    d.observeLine("step 11", "stdout", 150_000, 1);
    expect(d.observeTick(249_999, true, 1)).toBeNull();
    expect(d.observeTick(250_000, true, 1)?.meta["last_value"]).toBe("11");
  });

  test("after firing it waits another full period, reporting the time since real progress", () => {
    const d = make();
    d.onChildStart(1, 0);
    expect(d.observeTick(100_000, true, 1)?.message).toBe("stall: no progress for 100s (value='')");
    expect(d.observeTick(150_000, true, 1)).toBeNull();
    expect(d.observeTick(199_999, true, 1)).toBeNull();
    expect(d.observeTick(200_000, true, 1)?.meta["elapsed_seconds"]).toBe(200);
  });

  test("a non-numeric value counts when it changes", () => {
    const d = new StallDetector("stall", /phase=(\w+)/, 100_000, 0);
    d.onChildStart(1, 0);
    d.observeLine("phase=warmup", "stdout", 10_000, 1);
    d.observeLine("phase=warmup", "stdout", 90_000, 1);
    expect(d.observeTick(110_000, true, 1)?.message).toBe("stall: no progress for 100s (value='warmup')");
    d.observeLine("phase=train", "stdout", 150_000, 1);
    expect(d.observeTick(240_000, true, 1)).toBeNull();
  });

  test("no capture group: the whole match is the value", () => {
    const d = new StallDetector("stall", /\d+\/\d+/, 100_000, 0);
    d.onChildStart(1, 0);
    d.observeLine("batch 5/100", "stdout", 50_000, 1);
    expect(d.observeTick(149_999, true, 1)).toBeNull();
    expect(d.observeTick(150_000, true, 1)?.meta["last_value"]).toBe("5/100");
  });

  test("a new child starts over (value, maximum and clock)", () => {
    const d = make();
    d.onChildStart(1, 0);
    d.observeLine("step 500", "stdout", 10_000, 1);
    d.onChildStart(2, 200_000);
    d.observeLine("step 400", "stdout", 250_000, 2); // a resumed run from an earlier checkpoint
    expect(d.observeTick(349_999, true, 2)).toBeNull();
    expect(d.observeTick(350_000, true, 2)?.meta["last_value"]).toBe("400");
  });

  test("without a child start, the first tick starts the clock", () => {
    const d = make();
    expect(d.observeTick(1_000_000, true, 1)).toBeNull();
    expect(d.observeTick(1_100_000, true, 1)?.meta["elapsed_seconds"]).toBe(100);
  });
});

describe("stall without a metric (silence)", () => {
  test("any line is progress", () => {
    const d = new StallDetector("quiet", null, 60_000, 0);
    d.onChildStart(1, 0);
    d.observeLine("anything", "stderr", 50_000, 1);
    expect(d.observeTick(109_999, true, 1)).toBeNull();
    expect(d.observeTick(110_000, true, 1)?.message).toBe("stall: no output for 60s");
  });

  test("progress-bar updates split on \\r reach it as lines", () => {
    const [d] = buildDetectors([spec({ kind: "stall", no_progress_seconds: 60 })]) as [StallDetector];
    d.onChildStart(1, 0);
    d.observeLine(" 10%|█", "stderr", 59_000, 1);
    expect(d.observeTick(60_000, true, 1)).toBeNull();
  });
});

describe("exit_code", () => {
  const exit = (e: Partial<ChildExit>): ChildExit => ({
    code: 1,
    signal: null,
    exitClass: "failure",
    at: 5,
    generation: 2,
    ...e,
  });
  const d = new ExitCodeDetector("exit_code", true, 0);

  test("a non-zero code", () => {
    const r = d.observeExit(exit({ code: 3 }))!;
    expect(r.message).toBe("process exited with code 3");
    expect(r.meta).toEqual({ exit_code: 3, signal: null, exit_class: "failure" });
    expect([r.kind, r.at, r.generation]).toEqual(["error", 5, 2]);
  });

  test("a signal death", () => {
    const r = d.observeExit(exit({ code: 139, signal: "SIGSEGV", exitClass: "signal" }))!;
    expect(r.message).toBe("process killed by SIGSEGV (exit code 139)");
    expect(r.meta["signal"]).toBe("SIGSEGV");
  });

  test("never when the monitor stopped it, nor for success unless nonzero_only is false", () => {
    expect(d.observeExit(exit({ code: 143, signal: "SIGTERM", exitClass: "stopped" }))).toBeNull();
    expect(d.observeExit(exit({ code: 0, exitClass: "success" }))).toBeNull();
    const all = new ExitCodeDetector("exit_code", false, 0);
    expect(all.observeExit(exit({ code: 0, exitClass: "success" }))?.message).toBe(
      "process exited with code 0",
    );
    expect(all.observeExit(exit({ code: 143, signal: "SIGTERM", exitClass: "stopped" }))).toBeNull();
  });

  test("an unknown ending, and scheduler outcomes", () => {
    expect(d.observeExit(exit({ code: null, exitClass: "unknown" }))?.message).toBe(
      "process ended; exit code unknown",
    );
    expect(
      d.observeExit(exit({ code: null, exitClass: "preempted", detail: "slurm state PREEMPTED" }))?.meta,
    ).toEqual({
      exit_code: null,
      signal: null,
      exit_class: "preempted",
      detail: "slurm state PREEMPTED",
    });
    expect(d.observeExit(exit({ code: 0, exitClass: "timeout" }))?.message).toBe(
      "process exited with code 0 (timeout)",
    );
  });

  test("context is the last 100 lines", () => {
    const e = new ExitCodeDetector("exit_code", true, 0);
    for (let i = 0; i < 150; i++) e.observeLine(`l${i}`, "stdout", 0, 1);
    const r = e.observeExit(exit({}))!;
    expect(r.context.length).toBe(100);
    expect(r.context.at(-1)).toBe("l149");
  });
});

describe("buildDetectors", () => {
  test("names, kinds and cooldowns", () => {
    const ds = buildDetectors([
      spec({ kind: "pattern", regex: "a" }),
      spec({ kind: "pattern", regex: "b", name: "bee", cooldown_seconds: 5 }),
      spec({ kind: "traceback" }),
      spec({ kind: "stall" }),
    ]);
    expect(ds.map((d) => [d.name, d.kind, d.cooldownMs])).toEqual([
      ["pattern_0", "pattern", 60_000],
      ["bee", "pattern", 5_000],
      ["traceback", "traceback", 60_000],
      ["stall", "stall", 60_000],
      ["exit_code", "exit_code", 0],
    ]);
  });

  test("no implicit exit_code when one is configured; its cooldown can be set", () => {
    const ds = buildDetectors([spec({ kind: "exit_code", name: "crash", cooldown_seconds: 2 })]);
    expect(ds.map((d) => [d.name, d.cooldownMs])).toEqual([["crash", 2_000]]);
  });

  test("Python-dialect regexes", () => {
    const [p] = buildDetectors([spec({ kind: "pattern", regex: "(?i)cuda (?P<what>OUT of memory)" })]);
    expect(p!.observeLine("CUDA out of memory", "stderr", 0, 1)?.meta["group1"]).toBe("out of memory");
  });

  test("the default set: the template's detectors", () => {
    expect(buildDetectors(DEFAULT_DETECTOR_SPECS).map((d) => d.name)).toEqual([
      "oom",
      "nccl",
      "connection_reset",
      "traceback",
      "training_stall",
      "exit_code",
    ]);
  });
});

describe("the default set", () => {
  test("fires on what it is for", () => {
    const lines = [
      "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB",
      "Out of memory: Killed process 4242 (python3) total-vm:9000kB",
      "NCCL WARN Call to ibv_reg_mr failed: error 12",
      "[E ProcessGroupNCCL.cpp:475] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=5)",
      "ConnectionResetError: [Errno 104] Connection reset by peer",
      "Error: connect ECONNREFUSED 127.0.0.1:5432 Connection refused",
    ];
    const hits = scanText(lines.join("\n"), buildDetectors(DEFAULT_DETECTOR_SPECS));
    expect(hits.map((h) => [h.line, h.detection.detector])).toEqual([
      [1, "oom"],
      [2, "oom"],
      [3, "nccl"],
      [4, "nccl"],
      [5, "connection_reset"],
      [6, "connection_reset"],
    ]);
  });

  test("stays silent on a clean log full of harmless words", () => {
    const hits = scanText(fixture("clean/training-run.txt"), buildDetectors(DEFAULT_DETECTOR_SPECS));
    expect(hits.map((h) => `${h.line}: ${h.detection.detector}: ${h.detection.message}`)).toEqual([]);
  });
});

describe("stall metric reading", () => {
  // The default metric is read without a match object; others with exec. Both must agree.
  const cases: [RegExp, string[], string][] = [
    [/(?:step|iter)\s+(\d+)/, ["step 9", "iter   10", "step 2", "x step 10"], "10"],
    [/global_step=(\d+)/, ["global_step=7 loss 1", "global_step=12", "global_step=3"], "12"],
    [/x\d(\d+)/, ["x1234", "x9000"], "234"], // a digit before the group: exec path
    [/done|step (\d+)/, ["step 5", "done"], "done"], // top-level alternation: exec path, whole match
    [/Epoch (\d+)\/\d+/, ["Epoch 3/10", "Epoch 4/10"], "4"], // group not at the end: exec path
  ];
  for (const [re, lines, last] of cases) {
    test(`${re.source}`, () => {
      const d = new StallDetector("s", re, 100_000, 0);
      d.onChildStart(1, 0);
      lines.forEach((l, i) => {
        d.observeLine(l, "stdout", i, 1);
      });
      expect(d.observeTick(200_000, true, 1)?.meta["last_value"]).toBe(last);
    });
  }
});

describe("pattern: run-time bound (issue 16, finding 5)", () => {
  test("a pattern that backtracks catastrophically gets a smaller window after its first slow line", () => {
    // Built directly: the config loader would have refused this pattern.
    const d = new PatternDetector("slow", /(a+)+$/, "any", 0);
    const bad = `${"a".repeat(26)}!`; // ~2^26 backtracking steps: far beyond the 50 ms budget
    d.observeLine(bad, "stdout", 0, 1);
    expect(d.window).toBeLessThan(bad.length);
    // Further bad lines shrink it until they are cheap (or the detector gives up): it never grows.
    for (let i = 0; i < 5; i++) d.observeLine(bad, "stdout", 0, 1);
    expect(d.window).toBeLessThanOrEqual(13);
  });

  test("a cheap pattern timed slow once (the process waited for a CPU) keeps its window and still matches", () => {
    // The clock jumps 200 ms during the first match only, as when the monitor is descheduled.
    const times = [0, 200, 200, 200.01];
    let i = 0;
    const d = new PatternDetector("planted", /^PLANTED-FAIL [0-9]+$/, "any", 0, () => times[i++] ?? 1000 + i);
    expect(d.observeLine("flood 1 xxxxxxxx", "stdout", 0, 1)).toBeNull();
    expect(d.window).toBe(Number.POSITIVE_INFINITY);
    expect(d.observeLine("PLANTED-FAIL 7", "stdout", 0, 1)?.message).toBe("PLANTED-FAIL 7");
  });
});
