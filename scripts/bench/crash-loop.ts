/**
 * @module
 * What the restart benchmarks share: the crash program (programs/crash.c: prints its start time in
 * nanoseconds to $START_LOG, exits 1), the quantile they all read, and one crash-loop run of a
 * contender measured by its start-to-start intervals (compare.ts, restart-profile.ts with `pm2`;
 * capture-spawn.ts uses the program and the quantile).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BENCH, type Contender, sh } from "./peers.ts";

/** The crash program, compiled into .bench when missing or older than its source. */
export function crashProgram(): string {
  const out = path.join(BENCH, "crash");
  const src = path.join(import.meta.dir, "programs", "crash.c");
  fs.mkdirSync(BENCH, { recursive: true });
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs)
    sh(["cc", "-O2", "-o", out, src]);
  return out;
}

/** The `q` quantile of `xs` (nearest rank; NaN for none). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** The start times the crash program wrote to its $START_LOG, in ms of its own clock. */
export function readStarts(startLog: string): number[] {
  return fs
    .readFileSync(startLog, "utf8")
    .trim()
    .split("\n")
    .map((l) => Number(l) / 1e6);
}

/**
 * Supervise the crash program with `c` for `seconds` and return the intervals between its starts
 * (ms), from the program's own clock. `dir` (the contender's scratch folder, holding the start log)
 * is removed after, and the disk is settled (`sync`, then 1 s) so the next contender does not pay
 * this run's write-back: autosentry writes an incident folder per crash (~500 in a run), and the
 * contender after an autosentry run measured ~1.5x slower in every round before this pause. The
 * same pause for all.
 */
export async function crashLoopGaps(
  c: Contender,
  crash: string,
  seconds: number,
  dir: string,
): Promise<number[]> {
  const startLog = path.join(dir, "starts.log");
  try {
    await c.start([crash], { START_LOG: startLog });
    await Bun.sleep(seconds * 1000);
  } finally {
    await c.stop();
  }
  const starts = readStarts(startLog);
  fs.rmSync(dir, { recursive: true, force: true });
  sh(["sync"]);
  await Bun.sleep(1000);
  return starts.slice(1).map((t, i) => t - starts[i]!);
}
