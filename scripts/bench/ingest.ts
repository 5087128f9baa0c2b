/**
 * @module
 * Ingest benchmark: how many lines per second the default detector set takes, the way the monitor
 * feeds it (large chunks → TextDecoder → LineSplitter → DetectorSet.observeLine), next to
 * `grep -cE` with one alternation of the same patterns over the same file.
 *
 *   bun scripts/bench/ingest.ts [--lines N] [--runs N] [--keep]
 *
 * The log is generated (seeded, see gen-training-log.ts) into .bench/ and reused while its size and
 * seed match. Exits 1 when a target is missed: ≥ 1 M lines/s and within 3× of grep's time.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stream } from "../../src/core/types.ts";
import { buildDetectors } from "../../src/detectors/build.ts";
import { DEFAULT_DETECTOR_SPECS } from "../../src/detectors/defaults.ts";
import { DetectorSet } from "../../src/detectors/set.ts";
import { LineSplitter } from "../../src/util/lines.ts";
import { generateTrainingLog } from "./gen-training-log.ts";

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i === -1 ? d : Number(args[i + 1]);
};
const LINES = opt("--lines", 2_000_000);
const RUNS = opt("--runs", 5);
const SEED = 42;

/** The default set's patterns plus the traceback and stall anchors, as one ERE for grep. */
export const GREP_ERE = [
  "OutOfMemoryError|CUDA out of memory|CUDA error: out of memory|[Kk]illed.*\\bOOM\\b|Out of memory: Killed process",
  "NCCL.*(error|Error|timeout|timed out|Timeout)",
  "ConnectionResetError|ECONNRESET|EHOSTUNREACH|Connection refused|Connection reset by peer",
  'Traceback \\(|panic|fatal error: |Exception in thread|    at |\tat |File "|above exception|\\[UnhandledPromise',
  "(step|iter)[[:space:]]+[0-9]+",
].join("|");

const dir = path.join(import.meta.dir, "../../.bench");
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `training-${LINES}-${SEED}.log`);
const meta = `${file}.json`;
let info: ReturnType<typeof generateTrainingLog>;
if (fs.existsSync(file) && fs.existsSync(meta)) {
  info = JSON.parse(fs.readFileSync(meta, "utf8"));
} else {
  const t0 = performance.now();
  info = generateTrainingLog(file, LINES, SEED);
  fs.writeFileSync(meta, JSON.stringify(info));
  console.log(`generated ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
console.log(
  `log: ${info.lines.toLocaleString("en")} lines (${info.records.toLocaleString("en")} newline records, ` +
    `${(info.bytes / 2 ** 20).toFixed(1)} MiB, ${info.traces} traces)`,
);

/** One pass of the monitor's ingest path over the file; returns seconds and what fired. */
function ingestOnce(): { seconds: number; lines: number; detections: Map<string, number> } {
  // as the monitor builds it: the default detectors plus the signature pack (on by default)
  const set = new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS, { enabled: true, disabled: [] }));
  set.onChildStart(1, Date.now());
  const splitter = new LineSplitter(65536);
  const decoder = new TextDecoder();
  const detections = new Map<string, number>();
  let lines = 0;
  let at = Date.now();
  const stream: Stream = "stdout";
  const emit = (line: string) => {
    lines++;
    const found = set.observeLine(line, stream, at, 1);
    for (let i = 0; i < found.length; i++) {
      const d = found[i]!.detector;
      detections.set(d, (detections.get(d) ?? 0) + 1);
    }
  };
  const buf = new Uint8Array(4 << 20);
  const t0 = performance.now();
  const fd = fs.openSync(file, "r");
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    at = Date.now();
    splitter.push(decoder.decode(buf.subarray(0, n), { stream: true }), emit);
  }
  fs.closeSync(fd);
  splitter.end(emit);
  for (const d of set.flush(at, 1)) detections.set(d.detector, (detections.get(d.detector) ?? 0) + 1);
  return { seconds: (performance.now() - t0) / 1000, lines, detections };
}

/** grep -cE over the same file; returns seconds and its count. */
function grepOnce(locale: string): { seconds: number; count: number } {
  const t0 = performance.now();
  const p = Bun.spawnSync(["grep", "-cE", GREP_ERE, file], { env: { ...process.env, LC_ALL: locale } });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, count: Number(p.stdout.toString().trim()) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

ingestOnce(); // warm-up (JIT)
const ours: number[] = [];
let last: ReturnType<typeof ingestOnce> | null = null;
for (let i = 0; i < RUNS; i++) {
  last = ingestOnce();
  ours.push(last.seconds);
}
grepOnce("C");
const grepC: number[] = [];
const grepU: number[] = [];
let grepCount = 0;
for (let i = 0; i < RUNS; i++) {
  const g = grepOnce("C");
  grepC.push(g.seconds);
  grepCount = g.count;
  grepU.push(grepOnce("C.UTF-8").seconds);
}

const ourMed = median(ours);
const linesPerSec = last!.lines / ourMed;
const ratioC = ourMed / median(grepC);
const ratioU = ourMed / median(grepU);
const fmt = (s: number) => `${(s * 1000).toFixed(0)} ms`;
console.log(`detections: ${JSON.stringify(Object.fromEntries(last!.detections))}`);
console.log(
  `autosentry DetectorSet: median ${fmt(ourMed)} (min ${fmt(Math.min(...ours))}, max ${fmt(Math.max(...ours))}) ` +
    `= ${(linesPerSec / 1e6).toFixed(2)} M lines/s, ${(info.bytes / 2 ** 20 / ourMed).toFixed(0)} MiB/s`,
);
console.log(`grep -cE (LC_ALL=C):       median ${fmt(median(grepC))} (count ${grepCount})`);
console.log(`grep -cE (LC_ALL=C.UTF-8): median ${fmt(median(grepU))}`);
console.log(`ratio autosentry/grep: ${ratioC.toFixed(2)}× (C locale), ${ratioU.toFixed(2)}× (UTF-8 locale)`);
const ok = linesPerSec >= 1e6 && ratioC <= 3;
console.log(ok ? "targets met (≥ 1 M lines/s, ≤ 3× grep)" : "TARGET MISSED (≥ 1 M lines/s, ≤ 3× grep)");
if (!args.includes("--keep")) {
  // the log is kept for the next run; --keep is accepted for symmetry with other benches
}
process.exitCode = ok ? 0 : 1;
