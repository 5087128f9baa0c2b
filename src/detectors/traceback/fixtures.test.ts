/**
 * Golden tests over real traces (tests/fixtures/traces, produced by capture.sh with the real
 * toolchains; a few older formats are hand-written, see the README there).
 */
import { describe, expect, test } from "bun:test";
import { detectAll, fixture, frameTriples } from "./test-helpers.ts";

const PY = "/tmp/autosentry-traces/python";
const JS = "/tmp/autosentry-traces/node";
const GO = "/tmp/autosentry-traces/go";
const RUSTC = "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library";

type Triple = [string, number, string | null];

interface Golden {
  file: string;
  lang: string;
  message: string;
  type: string;
  /** Exception types, first-raised → final. */
  chain: (string | null)[];
  /** The final exception's first frames, innermost first. */
  frames: Triple[];
  frameCount?: number;
  /** 1-based first line of the trace in the file. */
  line?: number;
  /** Full message of the final exception, when it differs from the headline's part. */
  fullMessage?: string;
}

const GOLDEN: Golden[] = [
  // ---------------------------------------------------------------- python
  {
    file: "python/simple.txt",
    lang: "python",
    message: "KeyError: 'batch_size'",
    type: "KeyError",
    chain: ["KeyError"],
    frames: [
      [`${PY}/simple.py`, 2, "load"],
      [`${PY}/simple.py`, 8, "main"],
      [`${PY}/simple.py`, 11, "<module>"],
    ],
    frameCount: 3,
    line: 2,
  },
  {
    file: "python/carets.txt",
    lang: "python",
    message: "IndexError: list index out of range",
    type: "IndexError",
    chain: ["IndexError"],
    frames: [
      [`${PY}/carets.py`, 2, "step"],
      [`${PY}/carets.py`, 7, "run"],
      [`${PY}/carets.py`, 10, "<module>"],
    ],
    frameCount: 3,
  },
  {
    file: "python/chained.txt",
    lang: "python",
    message: "AttributeError: 'NoneType' object has no attribute 'close'",
    type: "AttributeError",
    chain: ["json.decoder.JSONDecodeError", "ValueError", "AttributeError"],
    frames: [
      [`${PY}/chained.py`, 16, "main"],
      [`${PY}/chained.py`, 19, "<module>"],
    ],
    frameCount: 2,
    line: 1,
  },
  {
    file: "python/train_oom.txt",
    lang: "python",
    message:
      "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 15.78 GiB of which 1.12 GiB is free. Of the allocated memory 13.20 GiB is allocated by PyTorch.",
    type: "torch.OutOfMemoryError",
    chain: ["torch.OutOfMemoryError"],
    frames: [
      [`${PY}/torch/__init__.py`, 6, "empty"],
      [`${PY}/train_oom.py`, 9, "forward"],
      [`${PY}/train_oom.py`, 14, "step"],
      [`${PY}/train_oom.py`, 19, "<module>"],
    ],
    line: 5,
    fullMessage:
      "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 15.78 GiB of which 1.12 GiB is free. Of the allocated memory 13.20 GiB is allocated by PyTorch.\nIf reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.",
  },
  {
    file: "python/group.txt",
    lang: "python",
    message: "ExceptionGroup: 2 workers failed (2 sub-exceptions)",
    type: "ExceptionGroup",
    chain: ["ValueError", "TypeError", "ExceptionGroup"],
    frames: [
      [`${PY}/group.py`, 14, "main"],
      [`${PY}/group.py`, 17, "<module>"],
    ],
  },
  {
    file: "python/nested_group.txt",
    lang: "python",
    message: "ExceptionGroup: outer (2 sub-exceptions)",
    type: "ExceptionGroup",
    chain: [
      "OSError",
      "OSError",
      "KeyError",
      "ExceptionGroup",
      "OSError",
      "KeyError",
      "ExceptionGroup",
      "RuntimeError",
      "ExceptionGroup",
    ],
    frames: [
      [`${PY}/nested_group.py`, 14, "main"],
      [`${PY}/nested_group.py`, 16, "<module>"],
    ],
  },
  {
    file: "python/syntax.txt",
    lang: "python",
    message: "SyntaxError: '(' was never closed",
    type: "SyntaxError",
    chain: ["SyntaxError"],
    frames: [[`${PY}/syntax.py`, 2, null]],
    frameCount: 1,
  },
  {
    file: "python/import_syntax.txt",
    lang: "python",
    message: "SyntaxError: '(' was never closed",
    type: "SyntaxError",
    chain: ["SyntaxError"],
    frames: [
      [`${PY}/syntax.py`, 2, null],
      [`${PY}/import_syntax.py`, 1, "<module>"],
    ],
  },
  {
    file: "python/recursion.txt",
    lang: "python",
    message: "RecursionError: maximum recursion depth exceeded",
    type: "RecursionError",
    chain: ["RecursionError"],
    frames: [
      [`${PY}/recursion.py`, 2, "f"],
      [`${PY}/recursion.py`, 2, "f"],
      [`${PY}/recursion.py`, 2, "f"],
      [`${PY}/recursion.py`, 5, "<module>"],
    ],
  },
  {
    file: "python/keyboard.txt",
    lang: "python",
    message: "KeyboardInterrupt",
    type: "KeyboardInterrupt",
    chain: ["KeyboardInterrupt"],
    frames: [
      [`${PY}/keyboard.py`, 2, "loop"],
      [`${PY}/keyboard.py`, 5, "<module>"],
    ],
  },
  {
    file: "python/logged.txt",
    lang: "python",
    message: "ZeroDivisionError: division by zero",
    type: "ZeroDivisionError",
    chain: ["ZeroDivisionError"],
    frames: [
      [`${PY}/logged.py`, 6, "risky"],
      [`${PY}/logged.py`, 10, "<module>"],
    ],
    line: 3,
  },
  {
    file: "python/logged_default.txt",
    lang: "python",
    message: "ValueError: invalid literal for int() with base 10: 'x'",
    type: "ValueError",
    chain: ["ValueError"],
    frames: [
      [`${PY}/logged_default.py`, 4, "risky"],
      [`${PY}/logged_default.py`, 7, "<module>"],
    ],
  },
  // ---------------------------------------------------------------- node
  {
    file: "node/throw.txt",
    lang: "node",
    message: "TypeError: batchSize missing in run.json",
    type: "TypeError",
    chain: ["TypeError"],
    frames: [
      [`${JS}/throw.js`, 4, "loadConfig"],
      [`${JS}/throw.js`, 11, "main"],
      [`${JS}/throw.js`, 14, "Object.<anonymous>"],
      ["node:internal/modules/cjs/loader", 1521, "Module._compile"],
    ],
    frameCount: 9,
    line: 2,
  },
  {
    file: "node/async.txt",
    lang: "node",
    message: "Error: shard 0 unavailable",
    type: "Error",
    chain: ["Error"],
    frames: [
      [`${JS}/async.mjs`, 3, "fetchShard"],
      [`${JS}/async.mjs`, 7, "main"],
    ],
    frameCount: 2,
  },
  {
    file: "node/reject.txt",
    lang: "node",
    message:
      'UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "oops".',
    type: "UnhandledPromiseRejection",
    chain: ["UnhandledPromiseRejection"],
    frames: [
      ["node:internal/process/promises", 389, "throwUnhandledRejectionsMode"],
      ["node:internal/process/promises", 470, "processPromiseRejections"],
      ["node:internal/process/task_queues", 96, "process.processTicksAndRejections"],
    ],
  },
  {
    file: "node/legacy-rejection.txt",
    lang: "node",
    message:
      'UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "oops".',
    type: "UnhandledPromiseRejection",
    chain: ["UnhandledPromiseRejection"],
    frames: [],
    frameCount: 0,
  },
  {
    file: "node/errcode.txt",
    lang: "node",
    message: "Error: ENOENT: no such file or directory, open '/nonexistent/data.bin'",
    type: "Error",
    chain: ["Error"],
    frames: [
      ["node:fs", 573, "Object.openSync"],
      ["node:fs", 452, "Object.readFileSync"],
      [`${JS}/errcode.js`, 3, "read"],
    ],
  },
  {
    file: "node/importerr.txt",
    lang: "node",
    message: `Error [ERR_MODULE_NOT_FOUND]: Cannot find module '${JS}/does-not-exist.mjs' imported from ${JS}/importerr.mjs`,
    type: "Error",
    chain: ["Error"],
    frames: [["node:internal/modules/esm/resolve", 283, "finalizeResolution"]],
  },
  {
    file: "node/cause.txt",
    lang: "node",
    message: "Error: batch failed",
    type: "Error",
    chain: ["RangeError", "Error"],
    frames: [
      [`${JS}/cause.js`, 8, "outer"],
      [`${JS}/cause.js`, 11, "Object.<anonymous>"],
      ["node:internal/main/run_main_module", 28, null],
    ],
    frameCount: 3,
  },
  {
    file: "node/multiline.txt",
    lang: "node",
    message: "Error: validation failed:",
    type: "Error",
    chain: ["Error"],
    frames: [[`${JS}/multiline.js`, 2, "check"]],
    fullMessage: "validation failed:\n  lr must be positive\n  epochs must be > 0",
  },
  {
    file: "node/logged.txt",
    lang: "node",
    message: "TypeError: Cannot read properties of null (reading 'x')",
    type: "TypeError",
    chain: ["TypeError"],
    frames: [
      [`${JS}/logged.js`, 1, "f"],
      [`${JS}/logged.js`, 2, "Object.<anonymous>"],
    ],
    line: 1,
  },
  // ---------------------------------------------------------------- go
  {
    file: "go/index.txt",
    lang: "go",
    message: "panic: runtime error: index out of range [5] with length 3",
    type: "panic",
    chain: ["panic"],
    frames: [
      [`${GO}/index/main.go`, 6, "main.pick"],
      [`${GO}/index/main.go`, 12, "main.main"],
    ],
    frameCount: 2,
    line: 2,
  },
  {
    file: "go/go-run.txt",
    lang: "go",
    message: "panic: runtime error: index out of range [5] with length 3",
    type: "panic",
    chain: ["panic"],
    frames: [
      [`${GO}/index/main.go`, 6, "main.pick"],
      [`${GO}/index/main.go`, 12, "main.main"],
    ],
    frameCount: 2,
  },
  {
    file: "go/deadlock.txt",
    lang: "go",
    message: "fatal error: all goroutines are asleep - deadlock!",
    type: "fatal error",
    chain: ["fatal error"],
    frames: [[`${GO}/deadlock/main.go`, 5, "main.main"]],
  },
  {
    file: "go/mapw.txt",
    lang: "go",
    message: "fatal error: concurrent map writes",
    type: "fatal error",
    chain: ["fatal error"],
    frames: [
      [`${GO}/mapw/main.go`, 13, "main.main.func1"],
      [`${GO}/mapw/main.go`, 10, "created by main.main"],
    ],
    frameCount: 2,
  },
  {
    file: "go/recovered.txt",
    lang: "go",
    message: "panic: checkpoint write failed",
    type: "panic",
    chain: ["panic", "panic"],
    frames: [
      [`${GO}/recovered/main.go`, 10, "main.(*Trainer).Step.func1"],
      ["/usr/lib/go-1.19/src/runtime/panic.go", 884, "panic"],
      [`${GO}/recovered/main.go`, 13, "main.(*Trainer).Step"],
      [`${GO}/recovered/main.go`, 18, "main.main"],
    ],
  },
  {
    file: "go/errpanic.txt",
    lang: "go",
    message: "panic: cleanup failed too",
    type: "panic",
    chain: ["panic", "panic"],
    frames: [[`${GO}/errpanic/main.go`, 6, "main.cleanup"]],
  },
  {
    file: "go/nilmap.txt",
    lang: "go",
    message: "panic: runtime error: invalid memory address or nil pointer dereference",
    type: "panic",
    chain: ["panic"],
    frames: [[`${GO}/nilmap/main.go`, 9, "main.main"]],
  },
  {
    file: "go/multi.txt",
    lang: "go",
    message: "panic: runtime error: index out of range [2] with length 0",
    type: "panic",
    chain: ["panic"],
    frames: [
      [`${GO}/multi/main.go`, 8, "main.worker"],
      [`${GO}/multi/main.go`, 14, "created by main.main"],
    ],
  },
  // ---------------------------------------------------------------- rust
  {
    file: "rust/unwrap.txt",
    lang: "rust",
    message: "panicked at src/main.rs:10:11: called `Option::unwrap()` on a `None` value",
    type: "panic",
    chain: ["panic"],
    frames: [["src/main.rs", 10, null]],
    frameCount: 1,
    line: 3,
  },
  {
    file: "rust/backtrace.txt",
    lang: "rust",
    message: "panicked at src/main.rs:10:11: called `Option::unwrap()` on a `None` value",
    type: "panic",
    chain: ["panic"],
    frames: [
      [`${RUSTC}/std/src/panicking.rs`, 689, "__rustc::rust_begin_unwind"],
      [`${RUSTC}/core/src/panicking.rs`, 80, "core::panicking::panic_fmt"],
      [`${RUSTC}/core/src/panicking.rs`, 150, "core::panicking::panic"],
      [`${RUSTC}/core/src/option.rs`, 2236, "core::option::unwrap_failed"],
      [`${RUSTC}/core/src/option.rs`, 1016, "core::option::Option<T>::unwrap"],
      ["./src/main.rs", 10, "trainer::Config::batch_size"],
      ["./src/main.rs", 33, "trainer::main"],
    ],
    frameCount: 8,
  },
  {
    file: "rust/backtrace-full.txt",
    lang: "rust",
    message: "panicked at src/main.rs:10:11: called `Option::unwrap()` on a `None` value",
    type: "panic",
    chain: ["panic"],
    frames: [
      [
        `${RUSTC}/std/src/../../backtrace/src/backtrace/libunwind.rs`,
        117,
        "std[e28293b1aa0f68bd]::backtrace_rs::backtrace::libunwind::trace",
      ],
    ],
  },
  {
    file: "rust/expect.txt",
    lang: "rust",
    message: 'panicked at src/main.rs:21:15: failed to write checkpoint: "disk quota exceeded"',
    type: "panic",
    chain: ["panic"],
    frames: [["src/main.rs", 21, null]],
  },
  {
    file: "rust/multiline.txt",
    lang: "rust",
    message: "panicked at src/main.rs:23:20: invalid config:",
    type: "panic",
    chain: ["panic"],
    frames: [["src/main.rs", 23, null]],
    fullMessage: "invalid config:\n  lr must be > 0\n  epochs must be > 0",
  },
  {
    file: "rust/thread.txt",
    lang: "rust",
    message: "panicked at src/main.rs:27:18: index out of bounds: the len is 0 but the index is 4",
    type: "panic",
    chain: ["panic"],
    frames: [["src/main.rs", 27, null]],
  },
  {
    file: "rust/legacy-quoted.txt",
    lang: "rust",
    message: "panicked at src/main.rs:5:10: called `Option::unwrap()` on a `None` value",
    type: "panic",
    chain: ["panic"],
    frames: [["src/main.rs", 5, null]],
  },
  {
    file: "rust/legacy-1.73.txt",
    lang: "rust",
    message: "panicked at src/main.rs:5:10: called `Option::unwrap()` on a `None` value",
    type: "panic",
    chain: ["panic"],
    frames: [["src/main.rs", 5, null]],
  },
  {
    file: "rust/legacy-backtrace.txt",
    lang: "rust",
    message: "panicked at src/data.rs:42:13: index out of bounds: the len is 3 but the index is 7",
    type: "panic",
    chain: ["panic"],
    frames: [
      [
        "/rustc/90c541806f23a127002de5b4038be731ba1458ca/library/std/src/panicking.rs",
        578,
        "rust_begin_unwind",
      ],
      [
        "/rustc/90c541806f23a127002de5b4038be731ba1458ca/library/core/src/panicking.rs",
        67,
        "core::panicking::panic_fmt",
      ],
      [
        "/rustc/90c541806f23a127002de5b4038be731ba1458ca/library/core/src/panicking.rs",
        162,
        "core::panicking::panic_bounds_check",
      ],
      ["./src/data.rs", 42, "trainer::data::Loader::batch"],
      ["./src/main.rs", 17, "trainer::main"],
    ],
    frameCount: 6,
  },
  // ---------------------------------------------------------------- java
  {
    file: "java/caused-by.txt",
    lang: "java",
    message: "java.lang.IllegalStateException: could not load shard 3",
    type: "java.lang.IllegalStateException",
    chain: ["java.lang.IndexOutOfBoundsException", "java.lang.IllegalStateException"],
    frames: [
      ["com/example/train/Main.java", 15, "com.example.train.Main.run"],
      ["com/example/train/Main.java", 21, "com.example.train.Main.main"],
    ],
    frameCount: 2,
    line: 2,
  },
  {
    file: "java/deep-cause.txt",
    lang: "java",
    message: "java.lang.RuntimeException: startup failed",
    type: "java.lang.RuntimeException",
    chain: ["java.lang.NumberFormatException", "Deep$ConfigException", "java.lang.RuntimeException"],
    frames: [["Deep.java", 10, "Deep.main"]],
  },
  {
    file: "java/suppressed.txt",
    lang: "java",
    message: "java.lang.RuntimeException: work failed",
    type: "java.lang.RuntimeException",
    chain: ["java.lang.RuntimeException"],
    frames: [
      ["Suppressed.java", 10, "Suppressed.work"],
      ["Suppressed.java", 15, "Suppressed.main"],
    ],
    frameCount: 2,
  },
  {
    file: "java/npe.txt",
    lang: "java",
    message: 'java.lang.NullPointerException: Cannot read field "name" because "<local1>" is null',
    type: "java.lang.NullPointerException",
    chain: ["java.lang.NullPointerException"],
    frames: [["Npe.java", 5, "Npe.main"]],
  },
  {
    file: "java/thread.txt",
    lang: "java",
    message:
      "java.lang.ClassCastException: class java.lang.String cannot be cast to class java.lang.Integer (java.lang.String and java.lang.Integer are in module java.base of loader 'bootstrap')",
    type: "java.lang.ClassCastException",
    chain: ["java.lang.ClassCastException"],
    frames: [
      ["Thread2.java", 5, "Thread2.lambda$main$0"],
      ["java/lang/Thread.java", 840, "java.lang.Thread.run"],
    ],
  },
  {
    file: "java/multiline.txt",
    lang: "java",
    message: "java.lang.IllegalArgumentException: bad config:",
    type: "java.lang.IllegalArgumentException",
    chain: ["java.lang.IllegalArgumentException"],
    frames: [["Multi.java", 3, "Multi.main"]],
    fullMessage: "bad config:\n  lr=-1\n  epochs=0",
  },
  {
    file: "java/logged.txt",
    lang: "java",
    message: "java.lang.ArithmeticException: / by zero",
    type: "java.lang.ArithmeticException",
    chain: ["java.lang.ArithmeticException"],
    frames: [
      ["Logged.java", 8, "Logged.ratio"],
      ["Logged.java", 13, "Logged.main"],
    ],
    line: 3,
  },
];

describe("golden traces", () => {
  for (const g of GOLDEN) {
    test(g.file, () => {
      const found = detectAll(fixture(g.file));
      expect(found.length).toBe(1);
      const d = found[0]!;
      expect(d.detector).toBe("traceback");
      expect(d.kind).toBe("error");
      expect(d.message).toBe(g.message);
      expect(d.exceptionType).toBe(g.type);
      expect(d.trace?.language).toBe(g.lang as never);
      expect(d.meta["lang"]).toBe(g.lang);
      expect(d.trace!.exceptions.map((e) => e.type)).toEqual(g.chain);
      const frames = frameTriples(d);
      expect(frames.slice(0, g.frames.length)).toEqual(g.frames);
      if (g.frameCount !== undefined) expect(frames.length).toBe(g.frameCount);
      if (g.line !== undefined) expect(d.meta["line_no"]).toBe(g.line);
      if (g.fullMessage !== undefined) expect(d.trace!.exceptions.at(-1)!.message).toBe(g.fullMessage);
      // the message is never a trace header
      expect(d.message).not.toMatch(/^Traceback|^goroutine|^stack backtrace|^Exception in thread/);
    });
  }

  test("chained Python exceptions keep their own frames, innermost first", () => {
    const d = detectAll(fixture("python/chained.txt"))[0]!;
    expect(frameTriples(d, 0)[0]).toEqual([
      "/root/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py",
      353,
      "raw_decode",
    ]);
    expect(frameTriples(d, 1)).toEqual([
      [`${PY}/chained.py`, 8, "parse"],
      [`${PY}/chained.py`, 13, "main"],
    ]);
    expect(d.trace!.exceptions[1]!.message).toBe("config is not valid JSON");
  });

  test("a Node [cause] is the first exception, with its own frames", () => {
    const d = detectAll(fixture("node/cause.txt"))[0]!;
    expect(d.trace!.exceptions[0]!.message).toBe("index 7 out of range");
    expect(frameTriples(d, 0).slice(0, 2)).toEqual([
      [`${JS}/cause.js`, 2, "inner"],
      [`${JS}/cause.js`, 6, "outer"],
    ]);
  });

  test("Java causes come first and keep their frames", () => {
    const d = detectAll(fixture("java/caused-by.txt"))[0]!;
    expect(frameTriples(d, 0).at(-1)).toEqual([
      "com/example/train/Main.java",
      13,
      "com.example.train.Main.run",
    ]);
    expect(d.trace!.exceptions[0]!.message).toBe("Index 3 out of bounds for length 0");
  });

  test("frames carry the raw trace lines and columns", () => {
    const py = detectAll(fixture("python/simple.txt"))[0]!;
    expect(py.trace!.exceptions[0]!.frames[0]!.raw).toBe(
      `File "${PY}/simple.py", line 2, in load\nreturn cfg["batch_size"]`,
    );
    const js = detectAll(fixture("node/throw.txt"))[0]!;
    expect(js.trace!.exceptions[0]!.frames[0]!.column).toBe(11);
  });

  test("the trace text is the trace's own lines", () => {
    const d = detectAll(fixture("python/logged.txt"))[0]!;
    const lines = d.trace!.text.split("\n");
    expect(lines[0]).toBe("Traceback (most recent call last):");
    expect(lines.at(-1)).toBe("ZeroDivisionError: division by zero");
    const go = detectAll(fixture("go/go-run.txt"))[0]!;
    expect(go.trace!.text).not.toContain("exit status 2");
  });
});
