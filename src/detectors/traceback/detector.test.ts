/**
 * The traceback detector's streaming behaviour: when a trace is reported, and what is not a trace.
 */
import { describe, expect, test } from "bun:test";
import { MAX_TRACE_LINES, QUIET_MS, TracebackDetector } from "./detector.ts";
import { detectAll, fixture, frameTriples } from "./test-helpers.ts";

function feed(d: TracebackDetector, lines: string[], at = 0): ReturnType<TracebackDetector["observeLine"]>[] {
  return lines.map((l) => d.observeLine(l, "stderr", at, 1));
}

const PY_TRACE = [
  "Traceback (most recent call last):",
  '  File "/w/train.py", line 3, in <module>',
  "    main()",
  "ValueError: bad value",
];

describe("when a Python trace is reported", () => {
  test("not at its exception line, while a chain may follow; then at the next unrelated line", () => {
    const d = new TracebackDetector("traceback", 0);
    expect(feed(d, PY_TRACE).every((r) => r === null)).toBe(true);
    expect(d.observeLine("", "stderr", 0, 1)).toBeNull();
    const r = d.observeLine("epoch 2 starting", "stderr", 5, 1);
    expect(r?.message).toBe("ValueError: bad value");
    expect(r?.at).toBe(0);
    expect(d.hasOpenTrace).toBe(false);
  });

  test("a chain marker after the blank line continues the same trace", () => {
    const d = new TracebackDetector("traceback", 0);
    const rs = feed(d, [
      ...PY_TRACE,
      "",
      "During handling of the above exception, another exception occurred:",
      "",
      ...PY_TRACE.slice(0, 3),
      "KeyError: 'x'",
    ]);
    expect(rs.every((r) => r === null)).toBe(true);
    const r = d.flush(1, 1);
    expect(r?.message).toBe("KeyError: 'x'");
    expect(r?.trace?.exceptions.map((e) => e.type)).toEqual(["ValueError", "KeyError"]);
  });

  test("flush closes the open trace (output ended after the exception line)", () => {
    const d = new TracebackDetector("traceback", 0);
    feed(d, PY_TRACE);
    expect(d.flush(10, 1)?.exceptionType).toBe("ValueError");
    expect(d.flush(11, 1)).toBeNull();
  });

  test(`a tick closes it after ${QUIET_MS} ms without a line of its source, not before`, () => {
    const d = new TracebackDetector("traceback", 0);
    feed(d, PY_TRACE, 5000);
    expect(d.observeTick(5000 + QUIET_MS - 1, true, 1)).toBeNull();
    const r = d.observeTick(5000 + QUIET_MS, true, 1);
    expect(r?.message).toBe("ValueError: bad value");
    expect(d.observeTick(9000, true, 1)).toBeNull();
  });

  test("several traces closing on one tick come out one by one", () => {
    const d = new TracebackDetector("traceback", 0);
    for (const rank of [0, 1, 2])
      feed(
        d,
        PY_TRACE.map((l) => `[rank${rank}]: ${l}`),
      );
    const first = d.observeTick(10_000, true, 1);
    const rest = [d.takePending(), d.takePending()];
    expect([first, ...rest].map((x) => x?.meta["source"]).sort()).toEqual(["rank0", "rank1", "rank2"]);
    expect(d.takePending()).toBeNull();
  });

  test("a cause printed without a traceback (`raise X from Y()`) is the first exception", () => {
    const found = detectAll(fixture("python/cause_no_tb.txt"));
    expect(found.length).toBe(1);
    expect(found[0]!.message).toBe("RuntimeError: restore failed");
    expect(found[0]!.trace!.exceptions.map((e) => [e.type, e.message])).toEqual([
      ["ValueError", "bad checksum"],
      ["RuntimeError", "restore failed"],
    ]);
    expect(found[0]!.meta["line_no"]).toBe(1);
    expect(frameTriples(found[0]!)[0]).toEqual(["/tmp/autosentry-traces/python/cause_no_tb.py", 2, "main"]);
  });

  test(`a trace is cut and reported at ${MAX_TRACE_LINES} lines`, () => {
    const d = new TracebackDetector("traceback", 0);
    const lines = ["Traceback (most recent call last):"];
    for (let i = 0; i < 1500; i++) lines.push('  File "/w/r.py", line 2, in f', "    return f(n + 1)");
    const rs = feed(d, lines).filter((r) => r !== null);
    expect(rs.length).toBe(1);
    expect(rs[0]!.trace!.text.split("\n").length).toBe(MAX_TRACE_LINES);
    expect(rs[0]!.meta["end_line_no"]).toBe(MAX_TRACE_LINES);
  });

  test("a new child forgets open traces", () => {
    const d = new TracebackDetector("traceback", 0);
    feed(d, PY_TRACE);
    d.onChildStart(2, 0);
    expect(d.flush(1, 2)).toBeNull();
  });

  test("line numbers count the lines of the current child", () => {
    const d = new TracebackDetector("traceback", 0);
    feed(d, ["a", "b", ...PY_TRACE]);
    const r = d.flush(0, 1)!;
    expect([r.meta["line_no"], r.meta["end_line_no"]]).toEqual([3, 6]);
    expect(r.context).toEqual(["a", "b", ...PY_TRACE]);
  });
});

describe("what is not a trace", () => {
  test("`panic: false` in a config dump (no goroutine follows)", () => {
    const text = ["config:", "panic: false", "  retries: 3", "  timeout: 30", "step 1 loss 0.5"].join("\n");
    expect(detectAll(text)).toEqual([]);
  });

  test("console.trace output", () => {
    const text = [
      "Trace: checkpoint path",
      "    at save (/w/ckpt.js:4:11)",
      "    at main (/w/main.js:9:3)",
    ].join("\n");
    expect(detectAll(text)).toEqual([]);
  });

  test("a Go panic still counts when other text comes between the header and the goroutine", () => {
    const text = ["panic: boom", "", "goroutine 1 [running]:", "main.main()", "\t/w/main.go:5 +0x1d"].join(
      "\n",
    );
    expect(detectAll(text).map((d) => d.message)).toEqual(["panic: boom"]);
  });

  test("a Go header without goroutines before a Python trace does not swallow it", () => {
    const text = ["panic: false", ...PY_TRACE].join("\n");
    expect(detectAll(text).map((d) => d.message)).toEqual(["ValueError: bad value"]);
  });
});
