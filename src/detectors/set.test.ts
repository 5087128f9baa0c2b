import { describe, expect, test } from "bun:test";
import type { ChildExit, Detection } from "../core/types.ts";
import { buildDetectors } from "./build.ts";
import { DEFAULT_DETECTOR_SPECS } from "./defaults.ts";
import { PatternDetector } from "./pattern.ts";
import { DetectorSet } from "./set.ts";
import { StallDetector } from "./stall.ts";
import { TracebackDetector } from "./traceback/detector.ts";

const names = (ds: Detection[]) => ds.map((d) => d.detector);

describe("cooldowns", () => {
  test("a detection within the cooldown of the previous passed-on one is dropped; the first never is", () => {
    const set = new DetectorSet([new PatternDetector("p", /boom/, "any", 10_000)]);
    expect(names(set.observeLine("boom", "stderr", 0, 1))).toEqual(["p"]);
    expect(set.observeLine("boom", "stderr", 9_999, 1)).toEqual([]);
    expect(names(set.observeLine("boom", "stderr", 10_000, 1))).toEqual(["p"]);
    // measured from the last passed-on detection, not the last dropped one
    expect(set.observeLine("boom", "stderr", 15_000, 1)).toEqual([]);
    expect(names(set.observeLine("boom", "stderr", 20_000, 1))).toEqual(["p"]);
  });

  test("a new child starts with no cooldown in effect", () => {
    const set = new DetectorSet([new PatternDetector("p", /boom/, "any", 60_000)]);
    expect(names(set.observeLine("boom", "stderr", 0, 1))).toEqual(["p"]);
    expect(set.observeLine("boom", "stderr", 1_000, 1)).toEqual([]);
    set.onChildStart(2, 2_000);
    expect(names(set.observeLine("boom", "stderr", 3_000, 2))).toEqual(["p"]);
    expect(set.observeLine("boom", "stderr", 4_000, 2)).toEqual([]);
  });

  test("each detector has its own cooldown", () => {
    const set = new DetectorSet([
      new PatternDetector("a", /boom/, "any", 60_000),
      new PatternDetector("b", /boo/, "any", 0),
    ]);
    expect(names(set.observeLine("boom", "stderr", 0, 1))).toEqual(["a", "b"]);
    expect(names(set.observeLine("boom", "stderr", 1, 1))).toEqual(["b"]);
  });

  test("cooldowns apply to ticks too, and end with the child", () => {
    const set = new DetectorSet([new StallDetector("stall", null, 10_000, 60_000)]);
    set.onChildStart(1, 0);
    expect(names(set.observeTick(10_000, true, 1))).toEqual(["stall"]);
    expect(set.observeTick(20_000, true, 1)).toEqual([]);
    set.onChildStart(2, 20_000);
    expect(set.observeTick(29_000, true, 2)).toEqual([]);
    expect(names(set.observeTick(30_000, true, 2))).toEqual(["stall"]);
    expect(set.observeTick(40_000, true, 2)).toEqual([]);
  });

  test("an exit_code detector (cooldown 0) reports every crash", () => {
    const set = new DetectorSet(buildDetectors([]));
    const exit: ChildExit = { code: 1, signal: null, exitClass: "failure", at: 5, generation: 1 };
    expect(names(set.observeExit(exit))).toEqual(["exit_code"]);
    expect(names(set.observeExit({ ...exit, generation: 2 }))).toEqual(["exit_code"]);
  });

  test("applyCooldown: false passes everything on", () => {
    const set = new DetectorSet([new PatternDetector("p", /boom/, "any", 60_000)], { applyCooldown: false });
    expect(names([...set.observeLine("boom", "log", 0, 1), ...set.observeLine("boom", "log", 0, 1)])).toEqual(
      ["p", "p"],
    );
  });
});

describe("feeding", () => {
  test("nothing fired: the same shared empty array every time", () => {
    const set = new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS));
    const a = set.observeLine("step 1 loss 0.5", "stdout", 0, 1);
    const b = set.observeLine("step 2 loss 0.4", "stdout", 0, 1);
    expect(a.length).toBe(0);
    expect(a).toBe(b);
    expect(set.observeTick(0, true, 1)).toBe(a);
  });

  test("the combined pre-test changes nothing about which pattern fires", () => {
    const specs = DEFAULT_DETECTOR_SPECS;
    const combined = new DetectorSet(buildDetectors(specs));
    const lines = [
      "CUDA out of memory",
      "NCCL timeout in allreduce",
      "Connection refused",
      "harmless",
      "killed by OOM killer",
      "NCCL error and CUDA out of memory",
    ];
    const got = lines.map((l, i) => names(combined.observeLine(l, "stderr", i * 100_000, 1)));
    expect(got).toEqual([["oom"], ["nccl"], ["connection_reset"], [], ["oom"], ["oom", "nccl"]]);
  });

  test("pattern context includes lines the pre-test ruled out", () => {
    const set = new DetectorSet([
      new PatternDetector("a", /alpha/, "any", 0),
      new PatternDetector("b", /beta/, "any", 0),
    ]);
    set.observeLine("one", "stdout", 0, 1);
    set.observeLine("two", "stdout", 0, 1);
    const [d] = set.observeLine("beta!", "stdout", 0, 1);
    expect(d!.context).toEqual(["one", "two", "beta!"]);
  });

  test("several traces closing on one tick all come out (pending detections are drained)", () => {
    const set = new DetectorSet([new TracebackDetector("traceback", 0)]);
    for (const r of [0, 1]) {
      for (const l of [
        "Traceback (most recent call last):",
        '  File "/w/a.py", line 1, in f',
        "KeyError: 'x'",
      ]) {
        set.observeLine(`[rank${r}]: ${l}`, "stderr", 0, 1);
      }
    }
    expect(set.observeTick(5_000, true, 1).map((d) => d.meta["source"])).toEqual(["rank0", "rank1"]);
  });

  test("flush reports the open trace", () => {
    const set = new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS));
    for (const l of [
      "Traceback (most recent call last):",
      '  File "/w/a.py", line 1, in f',
      "KeyError: 'x'",
    ]) {
      expect(set.observeLine(l, "stderr", 0, 1)).toEqual([]);
    }
    expect(set.flush(1, 1).map((d) => d.message)).toEqual(["KeyError: 'x'"]);
  });
});

describe("the shared recent-lines ring", () => {
  test("every detector's context comes from it, including the exit's last lines", () => {
    const set = new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS));
    set.onChildStart(1, 0);
    for (let i = 0; i < 150; i++) set.observeLine(`step ${i}`, "stdout", 0, 1);
    set.observeLine("RuntimeError: CUDA out of memory", "stderr", 0, 1);
    const [exit] = set.observeExit({ code: 1, signal: null, exitClass: "failure", at: 1, generation: 1 });
    expect(exit!.context.length).toBe(100);
    expect(exit!.context.at(-1)).toBe("RuntimeError: CUDA out of memory");
    expect(exit!.context[0]).toBe("step 51");
  });

  test("a stream-filtered pattern's context holds only its stream", () => {
    const set = new DetectorSet([
      new PatternDetector("a", /boom/, "stderr", 0),
      new PatternDetector("b", /never/, "any", 0),
    ]);
    set.observeLine("out 1", "stdout", 0, 1);
    set.observeLine("err 1", "stderr", 0, 1);
    const [d] = set.observeLine("boom", "stderr", 0, 1);
    expect(d!.context).toEqual(["err 1", "boom"]);
  });

  test("a new child starts the traceback line numbers over", () => {
    const set = new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS));
    set.observeLine("old child output", "stderr", 0, 1);
    set.onChildStart(2, 0);
    for (const l of [
      "Traceback (most recent call last):",
      '  File "/w/a.py", line 1, in f',
      "KeyError: 'x'",
    ]) {
      set.observeLine(l, "stderr", 0, 2);
    }
    expect(set.flush(1, 2)[0]!.meta["line_no"]).toBe(1);
  });
});
