/**
 * End-to-end: `scan --json` of the compiled binary over real `cargo test -- --nocapture` output
 * (tests/fixtures/traces/rust/cargo-test-*.txt): the panics of the failing tests are reported, those
 * of the #[should_panic] tests that passed are not.
 */
import { expect, test } from "bun:test";
import * as path from "node:path";
import { REPO, run } from "./helpers.ts";

async function panicLines(fixture: string): Promise<[number, string][]> {
  const r = await run(["scan", "--json", path.join(REPO, "tests/fixtures/traces/rust", fixture)], {
    cwd: REPO,
  });
  expect(r.code).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { line: number; message: string; detector: string })
    .filter((x) => x.detector === "traceback")
    .map((x) => [x.line, x.message]);
}

test("cargo test --test-threads=1: the two failing tests' panics, not the two should_panic ones", async () => {
  const want: [number, string][] = [
    [4, "panicked at lib.rs:46:9: assertion `left == right` failed: 10 items in batches of 3"],
    [11, "panicked at lib.rs:6:9: batch size must be positive"],
  ];
  expect(await panicLines("cargo-test-serial.txt")).toEqual(want);
  expect((await panicLines("cargo-test-serial-backtrace.txt")).map((x) => x[1])).toEqual(
    want.map((x) => x[1]),
  );
}, 60_000);
