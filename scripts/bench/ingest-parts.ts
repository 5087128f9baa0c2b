/**
 * @module
 * Where the ingest benchmark's time goes (scripts/bench/ingest.ts), stage by stage, in CPU time,
 * next to `LC_ALL=C grep -cE` given the same per-line regexes in the same rounds. It measures the
 * floor of the per-line design (what any implementation that decodes the output into strings,
 * splits it into lines and runs the set's two per-line regexes must spend) and the chunk-level
 * alternatives weighed for issue 13:
 *
 * - `read + decode`: 4 MiB chunks through a streaming `TextDecoder`;
 * - `+ split`: and through `LineSplitter`, each line handed to a no-op;
 * - `pre-test per line`: the set's combined pre-test (`DetectorSet.preTest`) on every line;
 * - `stall per line`: the default stall detector's `observeLine` on every line (its regex and
 *   reading the step number), on a shared ring as in the set;
 * - `full ingest`: ingest.ts's loop (the set as the monitor builds it);
 * - `pre-test per 64 KiB block` / `per 4 MiB chunk (g)`: the same pre-test run over newline-aligned
 *   blocks, or with the `g` flag over each whole decoded chunk, instead of once per line;
 * - `stall regex per chunk (g)`: every match of the metric regex in each whole chunk.
 *
 *   bun scripts/bench/ingest-parts.ts [--runs N]
 *
 * The pre-test and stall rows run over lines (and blocks, chunks) prepared before the rounds, so
 * they time the regex work alone. Each round runs every row once, in an order rotated per round;
 * printed: median (min–max) of the rounds and the median's ratio to grep's median. Needs the log
 * of `npm run bench:ingest` (.bench/training-2000000-42.log).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { buildDetectors } from "../../src/detectors/build.ts";
import { DEFAULT_DETECTOR_SPECS } from "../../src/detectors/defaults.ts";
import { RecentLines } from "../../src/detectors/ring.ts";
import { DetectorSet } from "../../src/detectors/set.ts";
import { StallDetector } from "../../src/detectors/stall.ts";
import { LineSplitter } from "../../src/util/lines.ts";
import { perLineERE } from "./grep-ere.ts";

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const RUNS = runsAt === -1 ? 5 : Number(args[runsAt + 1]);
const file = path.join(import.meta.dir, "../../.bench/training-2000000-42.log");
if (!fs.existsSync(file)) {
  console.error(`ingest-parts: Cannot read ${file}: run \`npm run bench:ingest\` once to generate it`);
  process.exit(2);
}

const newSet = () => new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS, { enabled: true, disabled: [] }));
const pre = newSet().preTest;
if (pre === null) throw new Error("ingest-parts: the default set has no combined pre-test");
const stallSpec = DEFAULT_DETECTOR_SPECS.find((s) => s.kind === "stall");
if (stallSpec?.metric_regex === undefined)
  throw new Error("ingest-parts: the defaults have no stall metric regex");
const METRIC = stallSpec.metric_regex;
const ERE = perLineERE(pre, DEFAULT_DETECTOR_SPECS);

const CHUNK = 4 << 20;
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Read the file in chunks; `each` gets every chunk's bytes (a reused buffer). */
function readChunks(each: (bytes: Uint8Array) => void): void {
  const buf = new Uint8Array(CHUNK);
  const fd = fs.openSync(file, "r");
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      each(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
}

// prepared in the child process that needs them: the decoded chunks, the lines, 64 KiB blocks
let texts: string[] = [];
let lines: string[] = [];
let blocks: string[] = [];
function prepare(): void {
  const d = new TextDecoder();
  readChunks((b) => texts.push(d.decode(b, { stream: true })));
  const s = new LineSplitter(65536);
  for (const t of texts) s.push(t, (l) => lines.push(l));
  s.end((l) => lines.push(l));
  for (const t of texts) {
    for (let i = 0; i < t.length; ) {
      let e = t.indexOf("\n", i + 65536);
      if (e === -1) e = t.length;
      blocks.push(t.slice(i, e));
      i = e;
    }
  }
}

let sink = 0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** name, work, needs the prepared strings */
const rows: [string, () => void, boolean][] = [
  [
    "read + decode",
    () => {
      const d = new TextDecoder();
      readChunks((b) => {
        sink += d.decode(b, { stream: true }).length;
      });
    },
    false,
  ],
  [
    "read + decode + split",
    () => {
      const d = new TextDecoder();
      const s = new LineSplitter(65536);
      const emit = (l: string) => {
        sink += l.length;
      };
      readChunks((b) => s.push(d.decode(b, { stream: true }), emit));
      s.end(emit);
    },
    false,
  ],
  [
    "pre-test per line",
    () => {
      for (let i = 0; i < lines.length; i++) if (pre.test(lines[i]!)) sink++;
    },
    true,
  ],
  [
    "stall per line",
    () => {
      const st = new StallDetector("training_stall", new RegExp(METRIC), 1e9, 0);
      st.useRecentLines(new RecentLines(100));
      st.onChildStart(1, 0);
      for (let i = 0; i < lines.length; i++) st.observeLine(lines[i]!, "stdout", 0, 1);
    },
    true,
  ],
  [
    "full ingest (ingest.ts's loop)",
    () => {
      const set = newSet();
      set.onChildStart(1, 0);
      const s = new LineSplitter(65536);
      const d = new TextDecoder();
      const emit = (l: string) => {
        sink += set.observeLine(l, "stdout", 0, 1).length;
      };
      readChunks((b) => s.push(d.decode(b, { stream: true }), emit));
      s.end(emit);
      set.flush(0, 1);
    },
    false,
  ],
  [
    "pre-test per 64 KiB block",
    () => {
      for (let i = 0; i < blocks.length; i++) if (pre.test(blocks[i]!)) sink++;
    },
    true,
  ],
  [
    "pre-test per 4 MiB chunk (g)",
    () => {
      const g = new RegExp(pre.source, "g");
      for (const t of texts) {
        g.lastIndex = 0;
        while (g.test(t)) sink++;
      }
    },
    true,
  ],
  [
    "stall regex per chunk (g)",
    () => {
      const g = new RegExp(METRIC, "g");
      for (const t of texts) {
        g.lastIndex = 0;
        while (g.test(t)) sink++;
      }
    },
    true,
  ],
];

function grepOnce(): number {
  const p = Bun.spawnSync(["grep", "-cE", ERE, file], { env: { ...process.env, LC_ALL: "C" } });
  if (p.exitCode !== 0 && p.exitCode !== 1) throw new Error(`grep failed: ${p.stderr.toString()}`);
  return Number(p.resourceUsage.cpuTime.user + p.resourceUsage.cpuTime.system) / 1000;
}

/** Child mode: one row, in a process of its own (the prepared strings of other rows would make
 * every garbage collection of the streaming rows slower); prints the median of 3 timed runs. */
const rowAt = args.indexOf("--row");
if (rowAt !== -1) {
  const [name, f, needs] = rows[Number(args[rowAt + 1])]!;
  if (needs) prepare();
  f(); // warm-up (JIT, page cache)
  const ms: number[] = [];
  for (let k = 0; k < 3; k++) {
    const c0 = cpuMs();
    f();
    ms.push(cpuMs() - c0);
  }
  texts = [];
  lines = [];
  blocks = [];
  console.log(JSON.stringify({ name, ms: median(ms), sink }));
  process.exit(0);
}

function rowOnce(i: number): number {
  const p = Bun.spawnSync([process.execPath, import.meta.path, "--row", String(i)], { stderr: "inherit" });
  if (p.exitCode !== 0) throw new Error(`ingest-parts: row ${rows[i]![0]} failed (exit ${p.exitCode})`);
  return JSON.parse(p.stdout.toString()).ms;
}

grepOnce(); // warm-up (page cache)
const times = rows.map((): number[] => []);
const grep: number[] = [];
for (let r = 0; r < RUNS; r++) {
  for (let k = 0; k < rows.length; k++) {
    const i = (k + r) % rows.length;
    times[i]!.push(rowOnce(i));
  }
  grep.push(grepOnce());
}

const g = median(grep);
const line = (name: string, xs: number[]) =>
  `${name.padEnd(34)} ${median(xs).toFixed(0).padStart(5)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})  ${(median(xs) / g).toFixed(2)}× grep`;
const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
console.log(
  `${RUNS} rounds, CPU time (each row: median of 3 runs in a process of its own); load average ${load}`,
);
console.log(line("grep -cE (LC_ALL=C), same regexes", grep));
for (let i = 0; i < rows.length; i++) console.log(line(rows[i]![0], times[i]!));
const at = (name: string) => median(times[rows.findIndex(([n]) => n === name)]!);
const floor = at("read + decode + split") + at("pre-test per line") + at("stall per line");
console.log(
  `floor of the per-line design (decode + split + pre-test + stall, no dispatch): ${floor.toFixed(0)} ms = ${(floor / g).toFixed(2)}× grep`,
);
