/**
 * Metric extraction, each condition against a recorded series (tests/fixtures/series/*.log: one
 * `<ms>\t<line>` per line), and the phase-aware stall against a slow evaluation phase.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Detection } from "../../core/types.ts";
import { PhaseStallDetector } from "../phase-stall.ts";
import { StallDetector } from "../stall.ts";
import type { Detector } from "../types.ts";
import {
  BoundCondition,
  DropCondition,
  NanCondition,
  PlateauCondition,
  SpikeCondition,
} from "./conditions.ts";
import { MetricDetector } from "./detector.ts";
import { KeyReader, parseMetricNumber, RegexReader } from "./extract.ts";

const FIXTURES = path.join(import.meta.dir, "../../../tests/fixtures/series");

function recorded(name: string): { at: number; text: string }[] {
  return fs
    .readFileSync(path.join(FIXTURES, name), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const tab = l.indexOf("\t");
      return { at: Number(l.slice(0, tab)), text: l.slice(tab + 1) };
    });
}

/** Replay a recording: every line at its time, a tick every second in between, and `tailMs` more. */
function replay(d: Detector, name: string, tailMs = 0): Detection[] {
  const out: Detection[] = [];
  const lines = recorded(name);
  d.onChildStart?.(1, 0);
  let tick = 1000;
  const drain = (x: Detection | null) => {
    if (x) out.push(x);
    for (let p = d.takePending?.() ?? null; p !== null; p = d.takePending?.() ?? null) out.push(p);
  };
  for (const l of lines) {
    for (; tick <= l.at; tick += 1000) drain(d.observeTick?.(tick, true, 1) ?? null);
    drain(d.observeLine(l.text, "stdout", l.at, 1));
  }
  const end = (lines.at(-1)?.at ?? 0) + tailMs;
  for (; tick <= end; tick += 1000) drain(d.observeTick?.(tick, true, 1) ?? null);
  return out;
}

describe("reading values", () => {
  test("numbers as logs spell them", () => {
    expect(parseMetricNumber("0.25")).toBe(0.25);
    expect(parseMetricNumber("1e-3,")).toBe(0.001);
    expect(parseMetricNumber("nan")).toBeNaN();
    expect(parseMetricNumber("NaN")).toBeNaN();
    expect(parseMetricNumber("-inf")).toBe(Number.NEGATIVE_INFINITY);
    expect(parseMetricNumber("Infinity")).toBe(Number.POSITIVE_INFINITY);
    expect(parseMetricNumber("tensor(2.5, device='cuda:0')")).toBe(2.5);
    expect(parseMetricNumber("12.5it/s")).toBe(12.5);
    expect(parseMetricNumber("n/a")).toBeNull();
  });

  test("key=value, key: value and JSON (with Python's NaN) without a regex", () => {
    const r = new KeyReader("loss");
    expect(r.read("step 3 loss=0.5 lr=1e-4")).toBe(0.5);
    expect(r.read("step: 3 | loss: 0.25 |")).toBe(0.25);
    expect(r.read('{"step": 3, "loss": NaN}')).toBeNaN();
    expect(r.read('{"loss": "inf"}')).toBe(Number.POSITIVE_INFINITY);
    expect(r.read("loss = tensor(1.5, grad_fn=<X>)")).toBe(1.5);
    // other keys that end in the name are not it
    expect(r.read("val_loss=0.1 eval/loss=0.2 loss.scale=3")).toBeNull();
    expect(r.read("no metrics here")).toBeNull();
    expect(new KeyReader("samples/s").read("iter=3 samples/s=998.5")).toBe(998.5);
  });

  test("a regex: named group value, else group 1, else the match", () => {
    expect(new RegexReader(/L=(?<value>\S+)/).read("x L=3.5")).toBe(3.5);
    expect(new RegexReader(/loss (\S+)/).read("loss nan")).toBeNaN();
    expect(new RegexReader(/\d+\.\d+/).read("took 1.5s")).toBe(1.5);
  });
});

const metric = (conds: ConstructorParameters<typeof MetricDetector>[4], key = "loss") =>
  new MetricDetector(key, key, new KeyReader(key), new KeyReader("step"), conds, 0);

describe("a diverging loss (recorded)", () => {
  test("NaN fires once, at the first NaN step, as an error naming metric and condition", () => {
    const ds = replay(metric([new NanCondition()]), "diverging-loss.log");
    expect(ds.length).toBe(1);
    const d = ds[0]!;
    expect(d.kind).toBe("error");
    expect(d.meta).toMatchObject({ metric: "loss", condition: "nan", value: "NaN", step: 341 });
    expect(d.message).toBe("metric loss is NaN at step 341");
    const pts = d.series![0]!.points;
    expect(pts.length).toBe(60);
    expect(pts.at(-1)!.value).toBeNaN();
  });

  test("a spike over the rolling median fires before the NaN, not during the healthy descent", () => {
    const ds = replay(
      metric([new SpikeCondition({ factor: 3, window: 50, min_points: 10 }), new NanCondition()]),
      "diverging-loss.log",
    );
    const spike = ds.find((d) => d.meta["condition"] === "spike")!;
    expect(spike.kind).toBe("anomaly");
    expect(spike.meta["step"] as number).toBeGreaterThan(300);
    expect(spike.meta["step"] as number).toBeLessThan(341);
    expect(ds.map((d) => d.meta["condition"])).toContain("nan");
  });

  test("a z-score spike fires in the divergence too", () => {
    const ds = replay(
      metric([new SpikeCondition({ factor: 10, zscore: 6, window: 50, min_points: 20 })]),
      "diverging-loss.log",
    );
    expect(ds.length).toBeGreaterThan(0);
    expect(ds[0]!.meta["step"] as number).toBeGreaterThan(300);
  });

  test("bounds fire once per excursion", () => {
    const ds = replay(metric([new BoundCondition("above", 10)]), "diverging-loss.log");
    expect(ds.length).toBe(1);
    expect(ds[0]!.meta["condition"]).toBe("above");
    const below = replay(metric([new BoundCondition("below", 0)]), "diverging-loss.log");
    expect(below).toEqual([]);
  });
});

describe("a throughput collapse (recorded)", () => {
  const drop = () =>
    metric([new DropCondition({ percent: 50, seconds: 60, window: 60, min_points: 10 })], "samples/s");

  test("fires once, about 60 s after the collapse; the 20 s dip before it does not", () => {
    const ds = replay(drop(), "throughput-collapse.log");
    expect(ds.length).toBe(1);
    const d = ds[0]!;
    expect(d.meta).toMatchObject({ metric: "samples/s", condition: "drop" });
    expect(d.at).toBeGreaterThanOrEqual(360_000);
    expect(d.at).toBeLessThan(362_000);
    expect(d.meta["median"] as number).toBeGreaterThan(900);
  });

  test("a collapse whose lines then stop is still seen on the clock", () => {
    const d = drop();
    d.onChildStart(1, 0);
    for (let s = 0; s < 30; s++) d.observeLine(`samples/s=${1000 + (s % 3)}`, "stdout", s * 1000, 1);
    expect(d.observeLine("samples/s=10", "stdout", 30_000, 1)).toBeNull();
    expect(d.observeTick(60_000, true, 1)).toBeNull();
    expect(d.observeTick(90_000, true, 1)?.meta["condition"]).toBe("drop");
  });
});

describe("a plateau during warm-up (recorded)", () => {
  const plateau = (warmup_steps: number) =>
    metric([
      new PlateauCondition({
        epsilon: 0.01,
        mode: "min",
        steps: 200,
        seconds: 0,
        warmup_steps,
        warmup_seconds: 0,
      }),
    ]);

  test("does not fire while the warm-up holds the loss flat", () => {
    expect(replay(plateau(500), "warmup-plateau.log")).toEqual([]);
  });

  test("without the warm-up the same series would fire (the test can fail)", () => {
    const ds = replay(plateau(0), "warmup-plateau.log");
    expect(ds.length).toBeGreaterThan(0);
    expect(ds[0]!.meta["step"] as number).toBeLessThan(500);
  });

  test("a real plateau after the warm-up fires, by steps or by seconds, once per period", () => {
    const d = metric([
      new PlateauCondition({
        epsilon: 0.01,
        mode: "min",
        steps: 100,
        seconds: 0,
        warmup_steps: 10,
        warmup_seconds: 0,
      }),
    ]);
    d.onChildStart(1, 0);
    const out: Detection[] = [];
    for (let s = 0; s < 400; s++) {
      const r = d.observeLine(`step=${s} loss=${s < 50 ? 3 - s * 0.02 : 2.0}`, "stdout", s * 1000, 1);
      if (r) out.push(r);
    }
    expect(out.map((x) => x.meta["step"])).toEqual([150, 250, 350]);
    const t = metric(
      [
        new PlateauCondition({
          epsilon: 0,
          mode: "max",
          steps: 0,
          seconds: 30,
          warmup_steps: 0,
          warmup_seconds: 5,
        }),
      ],
      "acc",
    );
    t.onChildStart(1, 0);
    const hits: Detection[] = [];
    for (let s = 0; s < 50; s++) {
      const r = t.observeLine(`acc=0.5`, "stdout", s * 1000, 1);
      if (r) hits.push(r);
    }
    expect(hits.length).toBe(1);
    expect(hits[0]!.at).toBe(35_000);
  });
});

describe("phase-aware stall (recorded slow evaluation phase)", () => {
  const phased = () =>
    new PhaseStallDetector(
      "stall",
      [
        { name: "train", regex: /\bstep (\d+)/ },
        { name: "eval", regex: /Running evaluation|eval batch (\d+)/ },
      ],
      { factor: 10, floorMs: 30_000, fallbackMs: 600_000, window: 20, minIntervals: 3 },
      0,
    );

  test("the 40 s evaluation batches do not fire; a hang in training fires after max(10 × 1 s, 30 s)", () => {
    // 45 s after the last line: one firing (the next would come a full period later)
    const ds = replay(phased(), "eval-phase.log", 45_000);
    expect(ds.length).toBe(1);
    const d = ds[0]!;
    expect(d.meta["phase"]).toBe("train");
    expect(d.meta["threshold_seconds"]).toBe(30);
    const last = recorded("eval-phase.log").at(-1)!.at;
    expect(d.at - last).toBeGreaterThanOrEqual(30_000);
    expect(d.at - last).toBeLessThan(32_000);
  });

  test("a fixed threshold that catches the training hang as fast would fire in evaluation", () => {
    const fixed = new StallDetector("stall", /(?:step|batch) (\d+)/, 30_000, 0);
    const ds = replay(fixed, "eval-phase.log", 120_000);
    expect(ds.length).toBeGreaterThan(3);
  });

  test("the factor follows the pace: a slow training step raises the threshold", () => {
    const d = phased();
    d.onChildStart(1, 0);
    for (let s = 0; s < 10; s++) d.observeLine(`step ${s}`, "stdout", s * 20_000, 1);
    expect(d.threshold()).toMatchObject({ ms: 200_000, medianMs: 20_000, phase: "train" });
  });

  test("a phase too young to judge uses no_progress_seconds; a new child starts over", () => {
    const d = phased();
    d.onChildStart(1, 0);
    d.observeLine("step 1", "stdout", 1000, 1);
    expect(d.threshold().ms).toBe(600_000);
    d.observeLine("step 1", "stdout", 2000, 1); // the same step again is not progress
    expect(d.observeTick(3000, true, 1)).toBeNull();
    expect(d.observeTick(602_000, true, 1)?.meta["phase"]).toBe("train");
    d.onChildStart(2, 700_000);
    expect(d.threshold().phase).toBeNull();
    expect(d.observeTick(701_000, false, 2)).toBeNull();
  });
});
