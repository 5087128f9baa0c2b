import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ChildExit } from "../core/types.ts";
import {
  describeStartupFailures,
  isReportCount,
  lastLine,
  noteFailedExit,
  noteRunning,
  STARTUP_SECONDS,
  type StartupFailures,
  StartupReporter,
} from "./startup-failures.ts";
import { emptyState } from "./state.ts";

const exitAfter = (st: ReturnType<typeof emptyState>, seconds: number, code = 2): ChildExit => {
  st.child_started_at = new Date(1_000_000).toISOString();
  return { code, signal: null, exitClass: "failure", at: 1_000_000 + seconds * 1000, generation: 1 };
};

test("quick failures in a row are counted and reported from the second; a long run ends the streak", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-startup-"));
  const log = path.join(dir, "process.log");
  fs.writeFileSync(
    log,
    "===== autosentry: start x gen=1 pid=1 =====\nImportError: no module named torch\n===== autosentry: stop x exit=2 =====\n",
  );
  const st = emptyState();
  expect(noteFailedExit(st, exitAfter(st, 0.5), log)).toBeNull();
  const second = noteFailedExit(st, exitAfter(st, 1), log);
  expect(second).toMatchObject({
    count: 2,
    last_code: 2,
    last_seconds: 1,
    last_output: "ImportError: no module named torch",
  });
  expect(describeStartupFailures(second!)).toBe(
    `the child failed within ${STARTUP_SECONDS}s of starting on each of the last 2 launches (exit 2): it probably cannot start (a missing file, a bad argument, a broken environment); its last output: ImportError: no module named torch; its output is in ${log}`,
  );
  expect(noteFailedExit(st, exitAfter(st, STARTUP_SECONDS + 1), log)).toBeNull();
  expect(st.startup_failures.count).toBe(0);
  expect(lastLine(path.join(dir, "missing"))).toBeNull();
  // The child's words are redacted before they are kept (state.json, the log).
  fs.appendFileSync(log, "token hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\n");
  noteFailedExit(st, exitAfter(st, 1), log, (t) => t.replace(/hf_\w+/, "[REDACTED]"));
  expect(st.startup_failures.last_output).toBe("token [REDACTED]");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the repeat schedule is 2, then 1-2-5 times a power of ten", () => {
  const said: number[] = [];
  for (let n = 0; n <= 5000; n++) if (isReportCount(n)) said.push(n);
  expect(said).toEqual([2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
});

test("a crash loop of 200 launches: state is exact at every launch, the warning is said 7 times", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-startup-"));
  const log = path.join(dir, "process.log");
  const reporter = new StartupReporter();
  const st = emptyState();
  const said: Array<[number, string]> = [];
  for (let i = 1; i <= 200; i++) {
    fs.appendFileSync(
      log,
      `===== autosentry: start x gen=${i} pid=${1000 + i} =====\nFileNotFoundError: data/train.csv (pid ${1000 + i})\n===== autosentry: stop x exit=2 =====\n`,
    );
    noteFailedExit(st, exitAfter(st, (2 + (i % 5)) / 10), log);
    // Every launch leaves the exact figures `status` shows, whether or not anything is said.
    expect(st.startup_failures).toEqual({
      count: i,
      last_code: 2,
      last_seconds: (2 + (i % 5)) / 10,
      last_output: `FileNotFoundError: data/train.csv (pid ${1000 + i})`,
      process_log: log,
    });
    const r = reporter.onFailure(st.startup_failures);
    if (r) said.push([i, r.said]);
    if (i === 2) {
      expect(r!.message).toStartWith(describeStartupFailures(st.startup_failures));
      expect(r!.message).toContain("said again at 5, 10, 20, 50, 100");
    }
    if (i === 120) expect(r).toBeNull();
    if (i === 200) expect(r!.message).toStartWith("still failing to start (200 times in a row): ");
  }
  // The pid in the last line changes at every launch: numbers do not make a failure "different".
  expect(said).toEqual([
    [2, "began"],
    [5, "repeats"],
    [10, "repeats"],
    [20, "repeats"],
    [50, "repeats"],
    [100, "repeats"],
    [200, "repeats"],
  ]);
  expect(reporter.onEnded(200)).toBe(
    `the child started: it ran past ${STARTUP_SECONDS}s after failing to start 200 times in a row`,
  );
  // Nothing was said in a fresh streak yet: its end is not announced either.
  expect(reporter.onEnded(1)).toBeNull();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a changed failure is said at once, one already said waits for the schedule, and changes are capped", () => {
  const reporter = new StartupReporter();
  const f = (count: number, code: number, out: string): StartupFailures => ({
    count,
    last_code: code,
    last_seconds: 0.1,
    last_output: out,
    process_log: null,
  });
  expect(reporter.onFailure(f(1, 2, "a"))).toBeNull();
  expect(reporter.onFailure(f(2, 2, "a"))?.said).toBe("began");
  expect(reporter.onFailure(f(3, 2, "a"))).toBeNull();
  const changed = reporter.onFailure(f(4, 1, "a"));
  expect(changed?.said).toBe("changed");
  expect(changed?.message).toStartWith("the failure changed: ");
  expect(changed?.message).toContain("each of the last 4 launches (exit 1)");
  expect(reporter.onFailure(f(6, 2, "a"))).toBeNull(); // back to one already said
  expect(reporter.onFailure(f(7, 2, "b"))?.said).toBe("changed"); // a new last line
  // A child whose failure differs at every launch: at most 8 kinds are said on change.
  let changes = 0;
  for (let n = 8; n < 100; n++) {
    const r = reporter.onFailure(f(n, 2, `error kind ${String.fromCharCode(97 + (n % 26))}`));
    if (r?.said === "changed") changes++;
  }
  expect(changes).toBe(8 - 3); // kinds "2 a", "1 a", "2 b" were already said
  // `reset` starts the count at 1 again: a new streak, said afresh.
  expect(reporter.onFailure(f(1, 2, "a"))).toBeNull();
  expect(reporter.onFailure(f(2, 2, "a"))?.said).toBe("began");
});

test("a child that lives past the startup window ends the streak; one still inside it does not", () => {
  const st = emptyState();
  st.startup_failures = { count: 5, last_code: 2, last_seconds: 0.1, last_output: "x", process_log: null };
  st.child_started_at = new Date(1_000_000).toISOString();
  expect(noteRunning(st, 1_000_000 + STARTUP_SECONDS * 1000)).toBe(0);
  expect(st.startup_failures.count).toBe(5);
  expect(noteRunning(st, 1_000_000 + STARTUP_SECONDS * 1000 + 1)).toBe(5);
  expect(st.startup_failures.count).toBe(0);
  expect(noteRunning(st, 1_000_000 + STARTUP_SECONDS * 2000)).toBe(0);
});

test("lastLine: the last line that is the child's, from the end of the file only", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-startup-"));
  const file = path.join(dir, "process.log");
  const at = (text: string, maxBytes?: number) => {
    fs.writeFileSync(file, text);
    return lastLine(file, maxBytes);
  };
  expect(at("")).toBeNull();
  expect(at("===== autosentry: start x =====\n\n  \n===== autosentry: stop x =====\n")).toBeNull();
  expect(at("no newline at the end")).toBe("no newline at the end");
  expect(at("first\n  second  \n\n\n")).toBe("second");
  expect(at("a\r\nb\r\n===== autosentry: stop x exit=1 =====\r\n")).toBe("b");
  // Only the last maxBytes are read: an older line beyond them is not found.
  expect(at(`old line\n${"\n".repeat(100)}`, 50)).toBeNull();
  expect(at(`${"x".repeat(400)}\n`)).toBe(`${"x".repeat(299)}…`);
  fs.rmSync(dir, { recursive: true, force: true });
});
