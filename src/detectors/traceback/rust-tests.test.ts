/**
 * Rust panics in `cargo test` output: the panic of a `#[should_panic]` test that passes is the
 * test working, not a failure; the panics of failing tests still are. Fixtures are real output of
 * tests/fixtures/traces/sources/rust-tests (capture.sh), stdout and stderr merged as in a log.
 */
import { describe, expect, test } from "bun:test";
import { detectAll, fixture } from "./test-helpers.ts";

/** `thread name: first message line` of each detection. */
function panics(text: string): string[] {
  return detectAll(text).map((d) => {
    const thread = /thread '([^']*)'/.exec(d.trace!.text)?.[1];
    return `${thread}: ${d.trace!.exceptions[0]!.message.split("\n")[0]}`;
  });
}

const FAILING = [
  "failing::rounds_up: assertion `left == right` failed: 10 items in batches of 3",
  "failing::wrong_panic_message: batch size must be positive",
];

describe("cargo test -- --nocapture, one test at a time (the result follows the panic)", () => {
  test("should_panic tests that pass are not reported; the failing tests are", () => {
    expect(panics(fixture("rust/cargo-test-serial.txt"))).toEqual(FAILING);
  });

  test("the same with RUST_BACKTRACE=1 (a backtrace and a note between the panic and `ok`)", () => {
    expect(panics(fixture("rust/cargo-test-serial-backtrace.txt"))).toEqual(FAILING);
  });

  test("a reported failing test's trace ends before its FAILED line", () => {
    const d = detectAll(fixture("rust/cargo-test-serial.txt"))[0]!;
    expect(d.trace!.text).not.toContain("FAILED");
    expect(d.trace!.exceptions[0]!.message).toBe(
      ["assertion `left == right` failed: 10 items in batches of 3", "  left: 4", " right: 3"].join("\n"),
    );
  });
});

test("a failing test's later panic (no note line) ends at its FAILED, not at the next blank line", () => {
  const text = [
    "test failing::a ... ",
    "thread 'failing::a' (8910) panicked at lib.rs:46:9:",
    "boom",
    "FAILED",
    "test tests::b ... ok",
    "test tests::c ... ok",
  ].join("\n");
  const found = detectAll(text);
  expect(found.map((d) => d.trace!.text)).toEqual([
    "thread 'failing::a' (8910) panicked at lib.rs:46:9:\nboom",
  ]);
});

test("another test's result line printed inside a backtrace does not cut it (parallel, RUST_BACKTRACE=1)", () => {
  // as cargo test -- --nocapture printed it (rustc 1.95): the harness's line came in mid-backtrace
  const text = [
    "running 3 tests",
    "",
    "thread 'tests::divides_by_zero' (6887) panicked at src/lib.rs:3:9:",
    "division by zero",
    "stack backtrace:",
    "test tests::divides ... ok",
    "   0: __rustc::rust_begin_unwind",
    "             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs:689:5",
    "   1: core::panicking::panic_fmt",
    "             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/panicking.rs:80:14",
    "   2: sp::div",
    "             at ./src/lib.rs:3:9",
    "   3: sp::tests::divides_by_zero",
    "             at ./src/lib.rs:15:9",
    "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
  ].join("\n");
  const found = detectAll(text);
  expect(found).toHaveLength(1);
  expect(found[0]!.trace!.exceptions[0]!.frames.map((f) => f.function)).toEqual([
    "__rustc::rust_begin_unwind",
    "core::panicking::panic_fmt",
    "sp::div",
    "sp::tests::divides_by_zero",
  ]);
  expect(found[0]!.meta["project_frame"]).toBe("./src/lib.rs:3 in sp::div");
});

describe("cargo test -- --show-output (passing tests' output under `successes:`)", () => {
  const text = [
    "running 3 tests",
    "test tests::counts_batches ... ok",
    "test tests::rejects_zero_size - should panic ... ok",
    "test failing::rounds_up ... FAILED",
    "",
    "successes:",
    "",
    "---- tests::rejects_zero_size stdout ----",
    "",
    "thread 'tests::rejects_zero_size' (9106) panicked at lib.rs:6:9:",
    "batch size must be positive",
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
    "",
    "",
    "successes:",
    "    tests::counts_batches",
    "    tests::rejects_zero_size",
    "",
    "failures:",
    "",
    "---- failing::rounds_up stdout ----",
    "",
    "thread 'failing::rounds_up' (9102) panicked at lib.rs:46:9:",
    "assertion `left == right` failed: 10 items in batches of 3",
    "  left: 4",
    " right: 3",
    "",
    "",
    "failures:",
    "    failing::rounds_up",
  ].join("\n");

  test("a panic printed among the successes is not reported; one among the failures is", () => {
    expect(panics(text)).toEqual([FAILING[0]!]);
  });
});

describe("the result line right after the panic (parallel tests)", () => {
  test("`test <its thread> - should panic ... ok` while the trace is open: not reported", () => {
    const text = [
      "test tests::counts_batches ... ",
      "thread 'tests::rejects_zero_size' (7787) panicked at lib.rs:6:9:",
      "batch size must be positive",
      "ok",
      "test tests::rejects_zero_size - should panic ... ok",
      "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
    ].join("\n");
    expect(panics(text)).toEqual([]);
  });

  test("`… - should panic ... FAILED` (the wrong panic): reported, its trace ends before that line", () => {
    const text = [
      "thread 'failing::wrong_panic_message' (7748) panicked at lib.rs:6:9:",
      "batch size must be positive",
      "test failing::wrong_panic_message - should panic ... FAILED",
      "test tests::counts_batches ... ok",
    ].join("\n");
    const found = detectAll(text);
    expect(found.map((d) => d.trace!.text)).toEqual([
      "thread 'failing::wrong_panic_message' (7748) panicked at lib.rs:6:9:\nbatch size must be positive",
    ]);
  });

  test("another thread's `should panic ... ok` does not hide this panic", () => {
    const text = [
      "thread 'tests::overflow' (7787) panicked at lib.rs:6:9:",
      "attempt to add with overflow",
      "test tests::rejects_zero_size - should panic ... ok",
      "test tests::overflow ... FAILED",
    ].join("\n");
    expect(panics(text)).toEqual(["tests::overflow: attempt to add with overflow"]);
  });

  test("real parallel output: what is decided while the trace is open, and the known limit", () => {
    // rejects_zero_size's `ok` comes while its trace is open: not reported. indexes_past_the_end's
    // trace is ended by a blank line and the next panic before its `ok`: reported (docs/detection.md)
    expect(panics(fixture("rust/cargo-test-parallel.txt"))).toEqual([
      FAILING[1]!,
      FAILING[0]!,
      "tests::indexes_past_the_end: index out of bounds: the len is 0 but the index is 3",
    ]);
    const rounds = detectAll(fixture("rust/cargo-test-parallel.txt"))[1]!;
    expect(rounds.trace!.exceptions[0]!.message).not.toContain("counts_batches");
  });

  test("a panic outside a test harness is reported as before", () => {
    expect(panics(fixture("rust/unwrap.txt")).length).toBe(1);
  });
});
