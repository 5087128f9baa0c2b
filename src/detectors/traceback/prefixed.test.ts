/**
 * The same real traces behind every log-prefix style, and ranks whose traces interleave.
 */
import { describe, expect, test } from "bun:test";
import type { Detection } from "../../core/types.ts";
import { TracebackDetector } from "./detector.ts";
import { detectAll, fixture, frameTriples } from "./test-helpers.ts";

const STYLES: { name: string; prefix: (i: number) => string; source: string | null }[] = [
  {
    name: "ISO timestamp",
    prefix: (i) => `2026-11-22T03:04:${String(i % 60).padStart(2, "0")}.123Z `,
    source: null,
  },
  { name: "Python logging asctime", prefix: () => "2026-11-22 03:04:05,123 ", source: null },
  { name: "bracketed timestamp", prefix: () => "[2026-11-22 03:04:05,123] ", source: null },
  { name: "syslog", prefix: () => "Nov 22 03:04:05 node7 train[4242]: ", source: null },
  { name: "glog", prefix: () => "E1122 03:04:05.123456  4242 train.cc:12] ", source: null },
  { name: "[rank3]:", prefix: () => "[rank3]: ", source: "rank3" },
  { name: "rank3:", prefix: () => "rank3: ", source: "rank3" },
  { name: "srun --label", prefix: () => "3: ", source: "task3" },
  { name: "torchrun", prefix: () => "[default0]:", source: "default0" },
  { name: "mpirun", prefix: () => "[1,0]<stderr>:", source: "1,0" },
  { name: "docker compose", prefix: () => "trainer-1  | ", source: "trainer-1" },
  {
    name: "compose + timestamp + rank",
    prefix: () => "trainer-1  | 2026-11-22T03:04:05Z [rank0]: ",
    source: "trainer-1/rank0",
  },
];

const FIXTURES = [
  "python/simple.txt",
  "python/chained.txt",
  "python/group.txt",
  "python/syntax.txt",
  "python/train_oom.txt",
  "node/throw.txt",
  "node/cause.txt",
  "node/errcode.txt",
  "go/recovered.txt",
  "go/mapw.txt",
  "rust/backtrace.txt",
  "rust/unwrap.txt",
  "rust/legacy-quoted.txt",
  "java/caused-by.txt",
  "java/suppressed.txt",
  "java/logged.txt",
];

function summary(d: Detection) {
  return {
    message: d.message,
    type: d.exceptionType,
    lang: d.trace!.language,
    chain: d.trace!.exceptions.map((e) => e.type),
    messages: d.trace!.exceptions.map((e) => e.message),
    frames: d.trace!.exceptions.map((_, i) => frameTriples(d, i)),
    line: d.meta["line_no"],
  };
}

describe("traces behind log prefixes", () => {
  for (const file of FIXTURES) {
    const plain = detectAll(fixture(file));
    for (const style of STYLES) {
      test(`${file} behind ${style.name}`, () => {
        expect(plain.length).toBe(1);
        const text = fixture(file)
          .replace(/\n$/, "")
          .split("\n")
          .map((l, i) => style.prefix(i) + l)
          .join("\n");
        const found = detectAll(`${text}\n`);
        expect(found.length).toBe(1);
        expect(summary(found[0]!)).toEqual(summary(plain[0]!));
        expect(found[0]!.meta["source"]).toBe(style.source);
      });
    }
  }
});

describe("mixed real-world logs", () => {
  test("two torchrun ranks print different tracebacks line-interleaved", () => {
    const found = detectAll(fixture("prefixes/torchrun-interleaved.txt"));
    const bySource = new Map(found.map((d) => [d.meta["source"], d]));
    expect(found.length).toBe(2);
    expect(bySource.get("default0")!.exceptionType).toBe("torch.OutOfMemoryError");
    expect(bySource.get("default1")!.message).toBe(
      "AttributeError: 'NoneType' object has no attribute 'close'",
    );
    expect(bySource.get("default1")!.trace!.exceptions.map((e) => e.type)).toEqual([
      "json.decoder.JSONDecodeError",
      "ValueError",
      "AttributeError",
    ]);
    expect(frameTriples(bySource.get("default0")!)[0]).toEqual([
      "/tmp/autosentry-traces/python/torch/__init__.py",
      6,
      "empty",
    ]);
  });

  test("a Go panic in one compose service while another logs", () => {
    const found = detectAll(fixture("prefixes/compose-go.txt"));
    expect(found.length).toBe(1);
    expect(found[0]!.message).toBe("panic: runtime error: index out of range [5] with length 3");
    expect(found[0]!.meta["source"]).toBe("trainer-1");
    expect(frameTriples(found[0]!)).toEqual([
      ["/tmp/autosentry-traces/go/index/main.go", 6, "main.pick"],
      ["/tmp/autosentry-traces/go/index/main.go", 12, "main.main"],
    ]);
  });

  test("an srun-labelled Rust backtrace (frame numbers look like labels) with another task in between", () => {
    const found = detectAll(fixture("prefixes/srun-rust.txt"));
    expect(found.length).toBe(1);
    expect(found[0]!.meta["source"]).toBe("task0");
    expect(found[0]!.message).toBe(
      "panicked at src/main.rs:10:11: called `Option::unwrap()` on a `None` value",
    );
    expect(frameTriples(found[0]!).length).toBe(8);
    expect(frameTriples(found[0]!)[5]).toEqual(["./src/main.rs", 10, "trainer::Config::batch_size"]);
  });

  test("an unlabelled Rust backtrace is not split into srun tasks", () => {
    const found = detectAll(fixture("rust/backtrace.txt"));
    expect(found[0]!.meta["source"]).toBeNull();
    expect(found[0]!.trace!.exceptions[0]!.frames.length).toBe(8);
  });

  test("a journald Java trace, every line stamped", () => {
    const found = detectAll(fixture("prefixes/syslog-java.txt"));
    expect(found.length).toBe(1);
    expect(found[0]!.trace!.exceptions.map((e) => e.type)).toEqual([
      "java.lang.NumberFormatException",
      "Deep$ConfigException",
      "java.lang.RuntimeException",
    ]);
  });

  test("a fully stamped stream: the next logging record ends the exception message", () => {
    const found = detectAll(fixture("prefixes/stamped-python.txt"));
    expect(found.length).toBe(1);
    expect(found[0]!.trace!.exceptions[0]!.message).toBe("division by zero");
    expect(found[0]!.meta["line_no"]).toBe(3);
    expect(found[0]!.meta["end_line_no"]).toBe(9);
  });

  test("mpirun-tagged Node error", () => {
    const found = detectAll(fixture("prefixes/mpirun-node.txt"));
    expect(found.length).toBe(1);
    expect(found[0]!.meta["source"]).toBe("1,1");
    expect(found[0]!.message).toBe("TypeError: batchSize missing in run.json");
  });

  test("stdout and stderr are separate sources", () => {
    const d = new TracebackDetector("traceback", 0);
    const lines = fixture("python/simple.txt").trim().split("\n").slice(1);
    const out: Detection[] = [];
    lines.forEach((l, i) => {
      const r1 = d.observeLine(l, "stderr", i, 1);
      const r2 = d.observeLine(`step ${i} loss 0.5`, "stdout", i, 1);
      if (r1) out.push(r1);
      if (r2) out.push(r2);
    });
    const f = d.flush(100, 1);
    if (f) out.push(f);
    expect(out.length).toBe(1);
    expect(out[0]!.message).toBe("KeyError: 'batch_size'");
  });
});
