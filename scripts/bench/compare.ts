/**
 * @module
 * `npm run bench`: autosentry next to PM2 and supervisord, side by side in one run, the contenders
 * interleaved round by round so that a noisy machine hurts all of them alike. Rewrites the
 * "Side by side" section of docs/benchmarks.md (between its markers) and writes the raw numbers to
 * .bench/compare.json.
 *
 *   bun scripts/bench/compare.ts [--quick] [--runs N] [--no-write] [--only figure,…] [--also BIN]
 *
 * Figures (each a median over the runs, with min–max):
 * - restart latency: start-to-start interval of a C program that exits 1 at once, zero delay
 *   configured, over a crash loop of ≥ 200 crashes per run;
 * - detection latency (autosentry only): failure line written → incident folder complete, and →
 *   restart issued, p50/p99 over the failures of a run;
 * - idle cost: RSS of every process of the contender's own (daemon, monitor, capture processes)
 *   and their CPU share over a quiet minute, all three measured at the same time;
 * - CLI start: `--version`, a status query and a listing, whole process;
 * - ingest against `LC_ALL=C grep -cE` given the set's per-line regexes, CPU time, rounds
 *   interleaved (scripts/bench/ingest.ts);
 * - scale: 10,000 incidents and a 100,000-row ledger (scripts/bench/scale.ts);
 * - the binary's size, gzip -9 and xz -6.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildFlags } from "../release/build.ts";
import { crashLoopGaps, quantile } from "./crash-loop.ts";
import {
  AUTOSENTRY,
  autosentry,
  BENCH,
  CLOCK_TICKS,
  type Contender,
  cpuTicks,
  ensurePeers,
  PM2,
  pm2,
  pssBytes,
  REPO,
  rssBytes,
  sh,
  supervisorctlArgv,
  supervisord,
} from "./peers.ts";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const WRITE = !args.includes("--no-write");
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i === -1 ? d : Number(args[i + 1]);
};
const RUNS = opt("--runs", QUICK ? 2 : 5);
const CRASH_SECONDS = QUICK ? 3 : 10;
const IDLE_SECONDS = QUICK ? 10 : 60;
const FAILURES = QUICK ? 30 : 200;
const CLI_REPEATS = QUICK ? 5 : 20;
/** `--only a,b`: measure just these figures (restart, detection, idle, cli, ingest, scale, size). */
const ONLY = (() => {
  const i = args.indexOf("--only");
  return i === -1 ? null : new Set((args[i + 1] ?? "").split(","));
})();
const want = (figure: string) => ONLY === null || ONLY.has(figure);
/**
 * `--also BIN`: another autosentry binary run in the restart rounds beside the others (a before/after
 * comparison of a change, e.g. a build of main); its figures are logged, never written to the doc.
 */
const ALSO = (() => {
  const i = args.indexOf("--also");
  return i === -1 ? null : path.resolve(args[i + 1] ?? "");
})();

const log = (s: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);

// ------------------------------------------------------------------------------------------------
// statistics

const median = (xs: number[]) => quantile(xs, 0.5);

/** Median with min–max of per-run values. */
interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}
function spread(runs: number[]): Spread {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const fmtMs = (s: Spread) => `${f1(s.median)} ms (${f1(s.min)}–${f1(s.max)})`;
const fmtMb = (s: Spread) => `${f1(s.median / 2 ** 20)} MB (${f1(s.min / 2 ** 20)}–${f1(s.max / 2 ** 20)})`;
const fmtPct = (s: Spread) => `${s.median.toFixed(2)} % (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;

// ------------------------------------------------------------------------------------------------
// programs

function compile(name: string): string {
  const out = path.join(BENCH, name);
  const src = path.join(import.meta.dir, "programs", `${name}.c`);
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    sh(["cc", "-O2", "-o", out, src]);
  }
  return out;
}

/**
 * An empty program compiled with autosentry's build flags: the runtime's own start, for reference
 * (what no change to autosentry can take off `--version`; issue 13).
 */
let EMPTY_BUN = "";
function compileEmpty(): string {
  const out = path.join(BENCH, "empty-bun");
  const src = path.join(BENCH, "empty.ts");
  fs.writeFileSync(src, "export {};\n");
  sh([process.execPath, "build", ...buildFlags().filter((w) => w !== "main.ts"), src, "--outfile", out]);
  return out;
}

function scratch(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `as-bench-${tag}-`));
}

type Make = (dir: string) => Contender;
const CONTENDERS: Array<[string, Make]> = [
  ["autosentry", (d) => autosentry(d)],
  ["PM2", (d) => pm2(d)],
  ["supervisord", (d) => supervisord(d)],
];
/**
 * autosentry with the Bun shim as its capture process instead of the native helper (issue 13):
 * measured beside the others for the idle and restart figures, as the "before" of that change.
 */
const BUN_SHIM = "autosentry, Bun shim";
const ALSO_NAME = `autosentry @ ${ALSO}`;
const BUN_SHIM_MAKE: Make = (d) => autosentry(d, "", { AUTOSENTRY_CAPTURE: "bun" }, bunShimBinary());

/**
 * autosentry without the quiet-time trim of its executable's pages (`AUTOSENTRY_TRIM=0`; issue 13,
 * src/util/working-set.ts): measured beside the others for the idle figure, as the "before" of it.
 */
const NO_TRIM = "autosentry, no trim";
const NO_TRIM_MAKE: Make = (d) =>
  autosentry(d, "", { AUTOSENTRY_TRIM: "0" }, bunShimBinary("autosentry-no-trim"));

/**
 * A copy of the binary for the Bun-shim (and no-trim) contender: measured at the same time as the default one, it
 * must not share the binary's page-cache pages with it (PSS would count them half for each).
 */
function bunShimBinary(name = "autosentry-bun-shim"): string {
  const copy = path.join(BENCH, name);
  if (!fs.existsSync(copy) || fs.statSync(copy).mtimeMs < fs.statSync(AUTOSENTRY).mtimeMs) {
    fs.mkdirSync(BENCH, { recursive: true });
    fs.copyFileSync(AUTOSENTRY, `${copy}.tmp`);
    fs.chmodSync(`${copy}.tmp`, 0o755);
    fs.renameSync(`${copy}.tmp`, copy);
  }
  return copy;
}

// ------------------------------------------------------------------------------------------------
// restart latency

interface RestartRun {
  p50: number;
  p99: number;
  restarts: number;
}

async function restartRun(make: Make, crash: string): Promise<RestartRun> {
  const dir = scratch("restart");
  const gaps = await crashLoopGaps(make(dir), crash, CRASH_SECONDS, dir);
  return { p50: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), restarts: gaps.length };
}

// ------------------------------------------------------------------------------------------------
// detection latency (autosentry only)

interface DetectionRun {
  incidentP50: number;
  incidentP99: number;
  restartP50: number;
  restartP99: number;
  failures: number;
}

async function detectionRun(failLoop: string): Promise<DetectionRun> {
  const dir = scratch("detect");
  const c = autosentry(
    dir,
    `detectors:\n  - { name: fatal, kind: pattern, regex: "fatal: bench failure [0-9]+" }\nmonitor: { settle_seconds: 2 }\n`,
  );
  const journal = path.join(dir, ".autosentry", "logs", "events.jsonl");
  const count = () => {
    try {
      return (fs.readFileSync(journal, "utf8").match(/"event":"restart_scheduled"/g) ?? []).length;
    } catch {
      return 0;
    }
  };
  try {
    await c.start([failLoop], { HOLD_MS: "0" });
    const end = Date.now() + 10 * 60_000;
    while (count() < FAILURES && Date.now() < end) await Bun.sleep(200);
  } finally {
    await c.stop();
  }
  // Pair each failure (its time is in the line) with its incident and the restart issued after it.
  const events = fs
    .readFileSync(journal, "utf8")
    .trim()
    .split("\n")
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as { event: string; time: string; message?: string; incident_id?: string }];
      } catch {
        return [];
      }
    });
  // The failure's write time is in the matched line (the pattern captures it, so the journal's
  // `incident` message carries it); the restart issued for it names the same incident id.
  const toIncident: number[] = [];
  const toRestart: number[] = [];
  const writtenAt = new Map<string, number>();
  for (const e of events) {
    const t = Date.parse(e.time);
    if (e.event === "incident") {
      const m = /bench failure (\d+)/.exec(e.message ?? "");
      if (m && e.incident_id) {
        writtenAt.set(e.incident_id, Number(m[1]));
        toIncident.push(t - Number(m[1]));
      }
    } else if (e.event === "restart_scheduled" && e.incident_id && writtenAt.has(e.incident_id)) {
      toRestart.push(t - writtenAt.get(e.incident_id)!);
      writtenAt.delete(e.incident_id);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    incidentP50: quantile(toIncident, 0.5),
    incidentP99: quantile(toIncident, 0.99),
    restartP50: quantile(toRestart, 0.5),
    restartP99: quantile(toRestart, 0.99),
    failures: toRestart.length,
  };
}

// ------------------------------------------------------------------------------------------------
// idle cost: all three at once, each supervising `sleep`

interface IdleRun {
  rss: Record<string, number>;
  pss: Record<string, number>;
  cpuPct: Record<string, number>;
  processes: Record<string, number>;
}

async function idleRun(): Promise<IdleRun> {
  const started: Array<[string, Contender, string]> = [];
  try {
    const all: Array<[string, Make]> = [...CONTENDERS, [BUN_SHIM, BUN_SHIM_MAKE], [NO_TRIM, NO_TRIM_MAKE]];
    for (const [name, make] of all) {
      const dir = scratch("idle");
      const c = make(dir);
      await c.start(["sleep", "100000"]);
      started.push([name, c, dir]);
    }
    await Bun.sleep(5000); // past start-up work
    const before = new Map(started.map(([n, c]) => [n, c.ownPids().reduce((a, p) => a + cpuTicks(p), 0)]));
    const rssSamples = new Map<string, number[]>(started.map(([n]) => [n, []]));
    const pssSamples = new Map<string, number[]>(started.map(([n]) => [n, []]));
    const t0 = performance.now();
    const end = Date.now() + IDLE_SECONDS * 1000;
    while (Date.now() < end) {
      for (const [n, c] of started) {
        const pids = c.ownPids();
        rssSamples.get(n)!.push(pids.reduce((a, p) => a + rssBytes(p), 0));
        pssSamples.get(n)!.push(pids.reduce((a, p) => a + pssBytes(p), 0));
      }
      await Bun.sleep(1000);
    }
    const seconds = (performance.now() - t0) / 1000;
    const out: IdleRun = { rss: {}, pss: {}, cpuPct: {}, processes: {} };
    for (const [n, c] of started) {
      const ticks = c.ownPids().reduce((a, p) => a + cpuTicks(p), 0) - before.get(n)!;
      out.cpuPct[n] = (100 * ticks) / CLOCK_TICKS / seconds;
      out.rss[n] = median(rssSamples.get(n)!);
      out.pss[n] = median(pssSamples.get(n)!);
      out.processes[n] = c.ownPids().length;
    }
    return out;
  } finally {
    for (const [, c, dir] of started) {
      await c.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

// ------------------------------------------------------------------------------------------------
// CLI start

function timeCommand(argv: string[], cwd: string, env: Record<string, string> = {}): number {
  const t0 = performance.now();
  const p = Bun.spawnSync(argv, { cwd, env: { ...process.env, ...env }, stdout: "ignore", stderr: "ignore" });
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${p.exitCode}`);
  return ms;
}

async function cliRun(): Promise<Record<string, number>> {
  // Each peer answers against a running daemon, as a user would ask it.
  const asDir = scratch("cli-as");
  const pmDir = scratch("cli-pm2");
  const svDir = scratch("cli-sv");
  const as = autosentry(asDir);
  const pm = pm2(pmDir);
  const sv = supervisord(svDir);
  try {
    await as.start(["sleep", "100000"]);
    await pm.start(["sleep", "100000"]);
    await sv.start(["sleep", "100000"]);
    await Bun.sleep(1000);
    const cases: Array<[string, string[], string, Record<string, string>]> = [
      ["empty compiled program", [EMPTY_BUN], asDir, {}],
      ["autosentry --version", [AUTOSENTRY, "--version"], asDir, {}],
      ["autosentry status", [AUTOSENTRY, "status"], asDir, {}],
      ["autosentry incidents list", [AUTOSENTRY, "incidents", "list"], asDir, {}],
      ["pm2 --version", [PM2, "--version"], pmDir, pm.env],
      ["pm2 jlist", [PM2, "jlist"], pmDir, pm.env],
      ["supervisorctl status", supervisorctlArgv(svDir), svDir, {}],
    ];
    const times = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    for (const [, argv, cwd, env] of cases) timeCommand(argv, cwd, env); // warm the page cache
    for (let i = 0; i < CLI_REPEATS; i++) {
      for (const [n, argv, cwd, env] of cases) times.get(n)!.push(timeCommand(argv, cwd, env));
    }
    return Object.fromEntries([...times].map(([n, t]) => [n, median(t)]));
  } finally {
    await as.stop();
    await pm.stop();
    await sv.stop();
    for (const d of [asDir, pmDir, svDir]) fs.rmSync(d, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------
// ingest, scale, size: scripts of their own

function ingestRun(): { ratio: number; linesPerSecond: number } {
  // ingest.ts exits 1 when it misses its own target; its figures are what is wanted here.
  const p = Bun.spawnSync(["bun", path.join(import.meta.dir, "ingest.ts"), "--runs", QUICK ? "3" : "5"], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = p.stdout.toString();
  if (!/ratio autosentry\/grep/.test(out))
    throw new Error(`ingest.ts failed: ${p.stderr.toString().slice(-2000)}`);
  const ratio = Number(/ratio autosentry\/grep: ([\d.]+)×/.exec(out)?.[1]);
  const rate = Number(/([\d.]+) M lines\/s/.exec(out)?.[1]) * 1e6;
  return { ratio, linesPerSecond: rate };
}

function scaleRun(): Record<string, number> {
  const out = sh(["bun", path.join(import.meta.dir, "scale.ts"), "--json", ...(QUICK ? ["--quick"] : [])]);
  return JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, number>;
}

function sizes(): { binary: number; gzip: number; xz: number } {
  const binary = fs.statSync(AUTOSENTRY).size;
  const gzip = Number(sh(["sh", "-c", `gzip -9 -c '${AUTOSENTRY}' | wc -c`]).trim());
  const xz = Number(sh(["sh", "-c", `xz -6 -T2 -c '${AUTOSENTRY}' | wc -c`]).trim());
  return { binary, gzip, xz };
}

// ------------------------------------------------------------------------------------------------
// the run

async function main(): Promise<void> {
  const t0 = Date.now();
  ensurePeers(log);
  const crash = compile("crash");
  const failLoop = compile("fail-loop");
  if (want("cli")) EMPTY_BUN = compileEmpty();
  // A first run with a new PM2_HOME prints PM2's banner before the version: keep the last line.
  // `pm2 --version` starts PM2's daemon in that PM2_HOME when none runs there: stop it again, or it
  // idles beside every later contender (and outlives the bench).
  const versionHome = { PM2_HOME: path.join(BENCH, "pm2-version-home") };
  const pm2Version = sh([PM2, "--version"], { env: versionHome }).trim().split("\n").at(-1) ?? "?";
  sh([PM2, "kill"], { env: versionHome });
  const svVersion = sh(["supervisord", "--version"]).trim();
  const asVersion = sh([AUTOSENTRY, "--version"]).trim();

  const restart = new Map<string, RestartRun[]>(CONTENDERS.map(([n]) => [n, []]));
  const restartBunShim: RestartRun[] = [];
  const restartAlso: RestartRun[] = [];
  const detection: DetectionRun[] = [];
  const idle: IdleRun[] = [];
  const cli: Array<Record<string, number>> = [];
  for (let r = 0; r < RUNS; r++) {
    if (want("restart")) {
      log(`round ${r + 1}/${RUNS}: restart latency`);
      // Rotate the order each round, so no contender always goes first.
      const order: Array<[string, Make]> = [...CONTENDERS, [BUN_SHIM, BUN_SHIM_MAKE]];
      if (ALSO !== null) order.push([ALSO_NAME, (d) => autosentry(d, "", {}, ALSO)]);
      for (let i = 0; i < order.length; i++) {
        const [name, make] = order[(i + r) % order.length]!;
        const got = await restartRun(make, crash);
        if (name === BUN_SHIM) restartBunShim.push(got);
        else if (name === ALSO_NAME) restartAlso.push(got);
        else restart.get(name)!.push(got);
        log(`  ${name}: p50 ${f1(got.p50)} ms, p99 ${f1(got.p99)} ms, ${got.restarts} restarts`);
      }
    }
    if (want("detection")) {
      log(`round ${r + 1}/${RUNS}: detection latency (${FAILURES} failures)`);
      const d = await detectionRun(failLoop);
      detection.push(d);
      log(
        `  ${d.failures} failures: incident p50 ${f1(d.incidentP50)} p99 ${f1(d.incidentP99)}; restart p50 ${f1(d.restartP50)} p99 ${f1(d.restartP99)}`,
      );
    }
    if (want("idle")) {
      log(`round ${r + 1}/${RUNS}: idle cost over ${IDLE_SECONDS} s`);
      const i = await idleRun();
      idle.push(i);
      log(`  ${JSON.stringify(i)}`);
    }
    if (want("cli")) {
      log(`round ${r + 1}/${RUNS}: CLI start`);
      const c = await cliRun();
      cli.push(c);
      log(`  ${JSON.stringify(c)}`);
    }
  }
  if (want("restart")) {
    const all: Array<[string, RestartRun[]]> = [...restart, [BUN_SHIM, restartBunShim]];
    if (ALSO !== null) all.push([ALSO_NAME, restartAlso]);
    log(`restart latency over ${RUNS} rounds, median (min–max):`);
    for (const [name, runs] of all)
      log(
        `  ${name}: p50 ${fmtMs(spread(runs.map((x) => x.p50)))}, p99 ${fmtMs(spread(runs.map((x) => x.p99)))}`,
      );
  }
  const ingest: Array<{ ratio: number; linesPerSecond: number }> = [];
  if (want("ingest")) {
    log("ingest");
    for (let i = 0; i < (QUICK ? 1 : 3); i++) ingest.push(ingestRun());
    log(`  ratios ${ingest.map((x) => x.ratio.toFixed(2)).join(", ")}`);
  }
  let scale: Record<string, number> = {};
  if (want("scale")) {
    log("scale");
    scale = scaleRun();
    log(`  ${JSON.stringify(scale)}`);
  }
  let size = { binary: 0, gzip: 0, xz: 0 };
  if (want("size")) {
    log("size");
    size = sizes();
  }

  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    load: { start: LOAD_AT_START, end: load() },
    versions: { autosentry: asVersion, pm2: pm2Version, supervisord: svVersion },
    settings: { runs: RUNS, crash_seconds: CRASH_SECONDS, idle_seconds: IDLE_SECONDS, failures: FAILURES },
    restart: Object.fromEntries([...restart]),
    restartBunShim,
    ...(ALSO !== null ? { restartAlso: { bin: ALSO, runs: restartAlso } } : {}),
    detection,
    idle,
    cli,
    ingest,
    scale,
    size,
    seconds: (Date.now() - t0) / 1000,
  };
  fs.writeFileSync(path.join(BENCH, "compare.json"), `${JSON.stringify(results, null, 2)}\n`);
  if (ONLY !== null) {
    log("--only: partial results in .bench/compare.json; docs/benchmarks.md left as it is");
    return;
  }
  const md = render(results);
  console.log(md);
  if (WRITE && !QUICK) writeSection(md);
  else
    log(QUICK ? "--quick: docs/benchmarks.md left as it is" : "--no-write: docs/benchmarks.md left as it is");
}

function machine(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}`;
}

/** The 1-minute load average now: absolute times mean little when it is far above the core count. */
function load(): number {
  return os.loadavg()[0] ?? 0;
}
const LOAD_AT_START = load();

type Results = {
  date: string;
  machine: string;
  load: { start: number; end: number };
  versions: Record<string, string>;
  settings: Record<string, number>;
  restart: Record<string, RestartRun[]>;
  /** autosentry with AUTOSENTRY_CAPTURE=bun (the capture process before the native helper). */
  restartBunShim: RestartRun[];
  detection: DetectionRun[];
  idle: IdleRun[];
  cli: Array<Record<string, number>>;
  ingest: Array<{ ratio: number; linesPerSecond: number }>;
  scale: Record<string, number>;
  size: { binary: number; gzip: number; xz: number };
  seconds: number;
};

/** A goal line: met or MISSED, with the measured figure. */
function goal(ok: boolean, text: string): string {
  return `| ${ok ? "met" : "**MISSED**"} | ${text} |`;
}

function render(r: Results): string {
  const names = Object.keys(r.restart);
  const p50 = (n: string) => spread(r.restart[n]!.map((x) => x.p50));
  const p99 = (n: string) => spread(r.restart[n]!.map((x) => x.p99));
  const restarts = (n: string) => spread(r.restart[n]!.map((x) => x.restarts));
  const rss = (n: string) => spread(r.idle.map((x) => x.rss[n]!));
  const pss = (n: string) => spread(r.idle.map((x) => x.pss[n]!));
  const cpu = (n: string) => spread(r.idle.map((x) => x.cpuPct[n]!));
  const cliS = (k: string) => spread(r.cli.map((x) => x[k]!));
  const det = (k: keyof DetectionRun) => spread(r.detection.map((x) => x[k] as number));
  const ratio = (a: Spread, b: Spread) => (b.median > 0 ? `${(a.median / b.median).toFixed(2)}×` : "–");
  const L: string[] = [];
  L.push(
    `Measured ${r.date.slice(0, 10)} by \`npm run bench\` (scripts/bench/compare.ts) in ${Math.round(r.seconds / 60)} min on ${r.machine}.`,
    `Versions: autosentry ${r.versions.autosentry}, PM2 ${r.versions.pm2} (npm), supervisord ${r.versions.supervisord} (Debian).`,
    `Load average (1 min) ${r.load.start.toFixed(1)} at the start, ${r.load.end.toFixed(1)} at the end, on ${os.cpus().length} cores: absolute times are inflated by other work; the ratios, measured side by side, are the figures to read.`,
    `Every figure is the median over ${r.settings.runs} runs with the range (min–max) of the runs in brackets; the contenders run`,
    "interleaved in each round (the order rotates), so load on the machine falls on all of them alike; after each restart run",
    "its files are removed and written back (`sync`, then 1 s) before the next contender starts.",
    "",
    "| figure | autosentry | PM2 | supervisord | autosentry / PM2 | autosentry / supervisord |",
    "|---|---|---|---|---|---|",
  );
  const row = (what: string, f: (n: string) => Spread, fmt: (s: Spread) => string) => {
    const [a, b, c] = names.map(f) as [Spread, Spread, Spread];
    L.push(`| ${what} | ${fmt(a)} | ${fmt(b)} | ${fmt(c)} | ${ratio(a, b)} | ${ratio(a, c)} |`);
  };
  row("restart latency p50", p50, fmtMs);
  row("restart latency p99", p99, fmtMs);
  row(`restarts in ${r.settings.crash_seconds} s`, restarts, (s) => `${s.median} (${s.min}–${s.max})`);
  row("idle RSS, own processes", rss, fmtMb);
  row("idle PSS, own processes (shared pages once)", pss, fmtMb);
  row(`idle CPU over ${r.settings.idle_seconds} s`, cpu, fmtPct);
  const cliRow = (what: string, keys: [string, string, string]) => {
    const [a, b, c] = keys.map(cliS) as [Spread, Spread, Spread];
    L.push(`| ${what} | ${fmtMs(a)} | ${fmtMs(b)} | ${fmtMs(c)} | ${ratio(a, b)} | ${ratio(a, c)} |`);
  };
  cliRow("CLI: version", ["autosentry --version", "pm2 --version", "supervisorctl status"]);
  cliRow("CLI: status of the running job", ["autosentry status", "pm2 jlist", "supervisorctl status"]);
  L.push(
    "",
    "`supervisorctl` has no version query that talks to nothing, so its row shows `supervisorctl status` both times.",
    "",
    "| autosentry only | median (range) |",
    "|---|---|",
    `| \`incidents list\`, whole process | ${fmtMs(cliS("autosentry incidents list"))} |`,
    `| capture process: the native helper (default) vs the Bun shim (\`AUTOSENTRY_CAPTURE=bun\`), same run: idle RSS | ${fmtMb(rss("autosentry"))} vs ${fmtMb(rss(BUN_SHIM))} |`,
    `| … idle PSS | ${fmtMb(pss("autosentry"))} vs ${fmtMb(pss(BUN_SHIM))} |`,
    `| idle RSS with the quiet-time trim of the executable's pages (default) vs without (\`AUTOSENTRY_TRIM=0\`), same run | ${fmtMb(rss("autosentry"))} vs ${fmtMb(rss(NO_TRIM))} |`,
    `| … restart latency p50 / p99 with the Bun shim | ${fmtMs(spread(r.restartBunShim.map((x) => x.p50)))} / ${fmtMs(spread(r.restartBunShim.map((x) => x.p99)))} |`,
    `| for reference: an empty program compiled with autosentry's build flags (the runtime's own start) | ${fmtMs(cliS("empty compiled program"))} |`,
    `| detection: failure line → incident folder complete, p50 | ${fmtMs(det("incidentP50"))} |`,
    `| detection: failure line → incident folder complete, p99 | ${fmtMs(det("incidentP99"))} |`,
    `| detection: failure line → restart issued, p50 | ${fmtMs(det("restartP50"))} |`,
    `| detection: failure line → restart issued, p99 | ${fmtMs(det("restartP99"))} |`,
    `| ingest: CPU time / \`LC_ALL=C grep -cE\` CPU time (same per-line regexes), ${r.ingest.length} runs | ${r.ingest.map((x) => `${x.ratio.toFixed(2)}×`).join(", ")} |`,
    `| binary / gzip -9 / xz -6 | ${f1(r.size.binary / 2 ** 20)} / ${f1(r.size.gzip / 2 ** 20)} / ${f1(r.size.xz / 2 ** 20)} MiB |`,
  );
  for (const [k, v] of Object.entries(r.scale)) L.push(`| scale: ${k} | ${f1(v)} ms |`);
  const ingestMax = Math.max(...r.ingest.map((x) => x.ratio));
  L.push(
    "",
    "Goals (issue 13), each a ratio or bound measured in this run:",
    "",
    "| | goal |",
    "|---|---|",
    goal(
      p50("autosentry").median <= Math.min(p50("PM2").median, p50("supervisord").median),
      `restart latency p50 no slower than PM2's and supervisord's: ${f1(p50("autosentry").median)} ms vs ${f1(p50("PM2").median)} / ${f1(p50("supervisord").median)} ms (${ratio(p50("autosentry"), p50("PM2"))} PM2's)`,
    ),
    goal(
      rss("autosentry").median <= rss("PM2").median,
      `idle footprint no larger than PM2's daemon: RSS ${fmtMb(rss("autosentry"))} vs ${fmtMb(rss("PM2"))} (${ratio(rss("autosentry"), rss("PM2"))}); PSS ${fmtMb(pss("autosentry"))} vs ${fmtMb(pss("PM2"))}`,
    ),
    goal(
      cliS("autosentry --version").median < 15,
      `\`--version\` under 15 ms: ${fmtMs(cliS("autosentry --version"))}`,
    ),
    goal(
      cliS("autosentry status").median < 25,
      `\`status\` under 25 ms: ${fmtMs(cliS("autosentry status"))}`,
    ),
    goal(ingestMax <= 2.5, `ingest within 2.5× of grep in every run: worst ${ingestMax.toFixed(2)}×`),
    goal(det("restartP99").median < 50, `detection latency p99 under 50 ms: ${fmtMs(det("restartP99"))}`),
  );
  return L.join("\n");
}

const START = "<!-- bench:compare:start -->";
const END = "<!-- bench:compare:end -->";

/** Replace the section between the markers (or put it first, after the title). */
function writeSection(md: string): void {
  const file = path.join(REPO, "docs", "benchmarks.md");
  const text = fs.readFileSync(file, "utf8");
  const block = `${START}\n## Side by side: autosentry, PM2, supervisord\n\n${md}\n${END}`;
  const next =
    text.includes(START) && text.includes(END)
      ? text.slice(0, text.indexOf(START)) + block + text.slice(text.indexOf(END) + END.length)
      : text.replace(/^# Benchmarks\n/, `# Benchmarks\n\n${block}\n`);
  fs.writeFileSync(file, next);
  log("docs/benchmarks.md: side-by-side section rewritten");
}

await main();
