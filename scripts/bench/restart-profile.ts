/**
 * @module
 * Where a restart's time goes: runs the restart benchmark's crash program under `autosentry run`
 * (zero delay, no caps, no agent) for a few seconds and splits each cycle by the journal's
 * timestamps (millisecond resolution, so read the medians over hundreds of cycles):
 * request → child started, started → exit received, exit → incident folder complete, incident →
 * restart issued, restart issued → next request. The start-to-start interval comes from the
 * program's own nanosecond clock, as in scripts/bench/compare.ts, and the monitor's main thread's
 * CPU time per cycle from /proc (after a second of warm-up). Several binaries run one after
 * another, round by round (interleaved, the order rotating, the disk settled between runs), for
 * before/after comparisons on a noisy machine; the end prints each binary's median with min–max of
 * the per-round p50 and p99.
 *
 * `pm2` among the binaries adds PM2 (scripts/bench/peers.ts, installed into .bench when missing) to
 * the rotation: its start-to-start interval only, measured like compare.ts's, for the ratio in the
 * same rounds. After every run the disk is synced and a second passes, as in compare.ts.
 *
 *   bun scripts/bench/restart-profile.ts [--seconds N] [--rounds N] [BIN|pm2 ...]   (default dist/autosentry)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { crashLoopGaps, crashProgram, quantile, readStarts } from "./crash-loop.ts";
import { AUTOSENTRY, ensurePeers, pm2, sh } from "./peers.ts";

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = args.indexOf(name);
  if (i === -1) return d;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const SECONDS = opt("--seconds", 4);
const ROUNDS = opt("--rounds", 3);
const bins = args.length > 0 ? args.map((b) => (b === "pm2" ? b : path.resolve(b))) : [AUTOSENTRY];

const q = quantile;

interface Profile {
  line: string;
  p50: number;
  p99: number;
}

async function profile(bin: string, crash: string): Promise<Profile> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-restart-profile-"));
  fs.mkdirSync(path.join(dir, ".autosentry"));
  fs.writeFileSync(
    path.join(dir, ".autosentry", "autosentry.yaml"),
    `process:
  command: [${JSON.stringify(crash)}]
  restart_policy: { max_restarts: 0, max_identical_failures: 0, cooldown_seconds: 0, backoff: fixed, max_restarts_in_window: 1000000000, restart_window_seconds: 1 }
vault: { enabled: false }
healing: { claude: { enabled: false } }
`,
  );
  const startLog = path.join(dir, "starts.log");
  const p = Bun.spawn([bin, "run"], {
    cwd: dir,
    env: { ...process.env, START_LOG: startLog },
    stdout: "ignore",
    stderr: "ignore",
  });
  // The monitor's main thread's CPU time over the crash loop (after a second of warm-up), per cycle.
  await Bun.sleep(1000);
  const cpu0 = threadCpu(p.pid);
  const n0 = lineCount(startLog);
  await Bun.sleep(Math.max(1, SECONDS - 1) * 1000);
  const cpu1 = threadCpu(p.pid);
  const n1 = lineCount(startLog);
  p.kill("SIGTERM");
  await p.exited;
  const cycles = Math.max(1, n1 - n0);
  const perCycle = (k: "user" | "sys") => (((cpu1[k] - cpu0[k]) / CLK_TCK) * 1e6) / cycles;
  const starts = readStarts(startLog);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
  const events = fs
    .readFileSync(path.join(dir, ".autosentry", "logs", "events.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { event: string; time: string });
  const seg: Record<string, number[]> = {};
  const add = (k: string, v: number | undefined): void => {
    if (v === undefined || !Number.isFinite(v)) return;
    const list = seg[k] ?? [];
    list.push(v);
    seg[k] = list;
  };
  let at: Record<string, number> = {};
  for (const e of events) {
    const t = Date.parse(e.time);
    if (e.event === "child_start_requested") {
      if (at.child_exited !== undefined && at.restart_scheduled !== undefined) {
        add("request → started", at.child_started! - at.child_start_requested!);
        add("started → exit received", at.child_exited - at.child_started!);
        add("exit → incident complete", at.incident! - at.child_exited);
        add("incident → restart issued", at.restart_scheduled - at.incident!);
        add("restart issued → next request", t - at.restart_scheduled);
      }
      at = {};
    }
    at[e.event] = t;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  // The next binary starts on a settled disk (an incident folder per crash; their write-back landed
  // on whoever ran next), as in compare.ts.
  sh(["sync"]);
  await Bun.sleep(1000);
  const parts = Object.entries(seg).map(([k, v]) => `${k} ${q(v, 0.5)}`);
  const [p50, p90, p99] = [q(gaps, 0.5), q(gaps, 0.9), q(gaps, 0.99)];
  return {
    line: `${path.basename(bin)}: ${gaps.length} restarts, start-to-start p50 ${p50.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; main thread CPU per cycle: user ${perCycle("user").toFixed(0)} µs, sys ${perCycle("sys").toFixed(0)} µs; p50 ms: ${parts.join(", ")}`,
    p50,
    p99,
  };
}

/** Clock ticks per second of /proc's times (getconf CLK_TCK; 100 on Linux). */
const CLK_TCK = Number(sh(["getconf", "CLK_TCK"]).trim()) || 100;

/** User and system time (clock ticks) of the process's main thread (/proc/<pid>/task/<pid>/stat). */
function threadCpu(pid: number): { user: number; sys: number } {
  const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]), sys: Number(f[12]) };
}

function lineCount(file: string): number {
  try {
    return fs.readFileSync(file, "utf8").split("\n").length - 1;
  } catch {
    return 0;
  }
}

/** PM2's start-to-start interval over the same crash loop. */
async function profilePm2(crash: string): Promise<Profile> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-restart-profile-pm2-"));
  const gaps = await crashLoopGaps(pm2(dir), crash, SECONDS, dir);
  const [p50, p90, p99] = [q(gaps, 0.5), q(gaps, 0.9), q(gaps, 0.99)];
  return {
    line: `pm2: ${gaps.length} restarts, start-to-start p50 ${p50.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
    p50,
    p99,
  };
}

if (bins.includes("pm2")) ensurePeers((l) => console.log(l));
const crash = crashProgram();
const runs = new Map<string, Profile[]>(bins.map((b) => [b, []]));
for (let r = 0; r < ROUNDS; r++) {
  // Rotate the order each round, so no binary always runs first (or after the same one).
  for (let i = 0; i < bins.length; i++) {
    const bin = bins[(i + r) % bins.length]!;
    const got = bin === "pm2" ? await profilePm2(crash) : await profile(bin, crash);
    runs.get(bin)!.push(got);
    console.log(`round ${r + 1}: ${got.line}`);
  }
}
const spread = (xs: number[]) =>
  `${q(xs, 0.5).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
console.log(`\nmedian (min–max) over ${ROUNDS} rounds, load average ${os.loadavg()[0]!.toFixed(2)}:`);
for (const [bin, got] of runs) {
  console.log(
    `${path.basename(bin)}: start-to-start p50 ${spread(got.map((g) => g.p50))}, p99 ${spread(got.map((g) => g.p99))}`,
  );
}
