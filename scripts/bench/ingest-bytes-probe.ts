/**
 * @module
 * A design probe for issue 13's ingest goal, NOT the product's ingest path (the product's bytes path,
 * built from it, is src/detectors/byte-scan.ts and src/monitor/ingest.ts, timed by ingest.ts): what the detector set's
 * per-line work costs when it is done on the raw bytes in JavaScript, before anything is decoded or
 * split into strings. One pass over each 4 MiB chunk finds the line ends, the candidates of the
 * combined pre-test (every alternative of `DetectorSet.preTest` as a literal: exact, or a required
 * literal re-checked with the real regex on the decoded line) through a bigram table and a trigram
 * hash, and the default stall metric's `(?:step|iter)\s+(\d+)` (first match per line, the step
 * number read from the bytes; a non-ASCII byte after the word falls back to the regex on the
 * decoded line). Only the lines that pass and the last 100 lines of each chunk (the context ring)
 * are decoded.
 *
 * It is checked against the per-line path on the same file (same line count, same pre-test lines,
 * same highest step and number of progress lines) and exits 1 when they differ. Not handled
 * (the product would have to): lines longer than the chunk, the line-length cut, other metric
 * regexes, user patterns without a literal.
 *
 *   bun scripts/bench/ingest-bytes-probe.ts [--runs N]
 *
 * Prints the probe's CPU time next to `LC_ALL=C grep -cE` given the same regexes (rounds
 * interleaved, median with min–max). Needs the log of `npm run bench:ingest`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { buildDetectors } from "../../src/detectors/build.ts";
import { DEFAULT_DETECTOR_SPECS } from "../../src/detectors/defaults.ts";
import {
  exactLiteral,
  requiredLiteral,
  topLevelAlternatives,
} from "../../src/detectors/required-literals.ts";
import { DetectorSet } from "../../src/detectors/set.ts";
import { LineSplitter } from "../../src/util/lines.ts";
import { perLineERE } from "./grep-ere.ts";

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const RUNS = runsAt === -1 ? 5 : Number(args[runsAt + 1]);
const file = path.join(import.meta.dir, "../../.bench/training-2000000-42.log");
if (!fs.existsSync(file)) {
  console.error(`ingest-bytes-probe: Cannot read ${file}: run \`npm run bench:ingest\` once to generate it`);
  process.exit(2);
}

const preTest = new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS, { enabled: true, disabled: [] }))
  .preTest;
if (preTest === null) throw new Error("ingest-bytes-probe: the default set has no combined pre-test");
const pre: RegExp = preTest;
const metricSource = DEFAULT_DETECTOR_SPECS.find((s) => s.kind === "stall")?.metric_regex ?? "";
const words = /^\(\?:([a-z|]+)\)\\s\+\(\\d\+\)$/.exec(metricSource)?.[1]?.split("|");
if (words === undefined || words.some((w) => w.length < 3))
  throw new Error(`ingest-bytes-probe: the stall metric /${metricSource}/ is not of the shape it reads`);
const METRIC = new RegExp(metricSource);

interface Literal {
  bytes: Uint8Array;
  /** The alternative is this literal exactly (else the line is re-checked with the pre-test). */
  exact: boolean;
  /** A word of the stall metric. */
  stall: boolean;
}
const enc = new TextEncoder();
const literals: Literal[] = [];
for (const alt of topLevelAlternatives(pre.source)) {
  // ` {4}at ` and `\tat ` (the trace trigger's frame lines) as the literals they are
  const plain = alt.replace(/ \{(\d+)\}/g, (_, n) => " ".repeat(Number(n))).replace(/\\t/g, "\t");
  const exact = exactLiteral(plain);
  const lit = exact ?? requiredLiteral(plain);
  if (lit === null || lit.length < 3)
    throw new Error(`ingest-bytes-probe: no literal for the alternative /${alt}/`);
  literals.push({ bytes: enc.encode(lit), exact: exact !== null && plain === alt, stall: false });
}
for (const w of words) literals.push({ bytes: enc.encode(w), exact: true, stall: true });
const bigram = new Uint8Array(65536);
const byBigram: number[][] = Array.from({ length: 65536 }, () => []);
const trigram = new Uint8Array(1 << 20);
const tri = (h2: number, c: number) => Math.imul((h2 << 8) | c, 0x9e3779b1) >>> 12;
literals.forEach((l, k) => {
  const h = (l.bytes[0]! << 8) | l.bytes[1]!;
  bigram[h] = 1;
  byBigram[h]!.push(k);
  trigram[tri(h, l.bytes[2]!)] = 1;
});

interface Result {
  lines: number;
  hits: number[];
  best: number;
  progress: number;
}

const CHUNK = 4 << 20;
const dec = new TextDecoder();

/** The probe's state over one file; {@link scan} is one chunk (a method, so that it is optimised as a function). */
class Probe implements Result {
  hits: number[] = [];
  lines = 0;
  best = Number.NEGATIVE_INFINITY;
  progress = 0;
  /** The previous chunk ended in `\r`: a `\n` at the start of the next one belongs to it. */
  skipLF = false;

  /** The end of one line [from, to): its pre-test verdict and stall value. */
  private endLine(
    b: Uint8Array,
    from: number,
    to: number,
    hit: number,
    value: number,
    fallback: boolean,
  ): void {
    this.lines++;
    if (hit === 2 || (hit === 1 && pre.test(dec.decode(b.subarray(from, to))))) this.hits.push(this.lines);
    let v = value;
    if (fallback) {
      const m = METRIC.exec(dec.decode(b.subarray(from, to)));
      v = m === null ? Number.NaN : Number(m[1]);
    }
    if (v >= 0 && v > this.best) {
      this.best = v;
      this.progress++;
    }
  }

  /** The complete lines in b[0, end) (at the end of the file: also an unterminated last line). */
  scan(b: Uint8Array, end: number, eof: boolean): void {
    let i = 0;
    if (this.skipLF && b[0] === 10) i = 1;
    this.skipLF = false;
    let from = i;
    let hit = 0; // 0 none, 1 a literal that needs the regex, 2 an exact literal
    let value = -1; // -1: no step number in this line
    let stalled = false;
    let fallback = false;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c === 10 || c === 13) {
        this.endLine(b, from, i, hit, value, fallback);
        hit = 0;
        value = -1;
        stalled = false;
        fallback = false;
        if (c === 13) {
          if (i + 1 < end) {
            if (b[i + 1] === 10) i++;
          } else if (!eof) this.skipLF = true;
        }
        from = i + 1;
        continue;
      }
      if (i + 2 >= end) continue; // no literal is shorter than 3 bytes
      const h = (c << 8) | b[i + 1]!;
      if (bigram[h] === 0 || trigram[tri(h, b[i + 2]!)] === 0) continue;
      const ks = byBigram[h]!;
      for (let q = 0; q < ks.length; q++) {
        const lit = literals[ks[q]!]!;
        const lb = lit.bytes;
        if (i + lb.length > end) continue;
        let j = 2;
        while (j < lb.length && b[i + j] === lb[j]) j++;
        if (j < lb.length) continue;
        if (!lit.stall) {
          if (lit.exact) hit = 2;
          else if (hit === 0) hit = 1;
          continue;
        }
        if (stalled) continue;
        // `\s+(\d+)` after the word, within the line
        let p = i + lb.length;
        while (p < end && (b[p] === 32 || b[p] === 9 || b[p] === 11 || b[p] === 12)) p++;
        if (p < end && b[p]! >= 0x80) {
          stalled = true; // a non-ASCII space may follow: the regex decides on the decoded line
          fallback = true;
          continue;
        }
        if (p === i + lb.length) continue;
        const digits = p;
        let v = 0;
        while (p < end && b[p]! >= 48 && b[p]! <= 57) v = v * 10 + (b[p++]! - 48);
        if (p === digits) continue;
        if (p - digits > 15) v = Number(dec.decode(b.subarray(digits, p)));
        stalled = true;
        value = v;
      }
    }
    if (eof && from < end) this.endLine(b, from, end, hit, value, fallback);
  }
}

/** One pass of the probe over the file. */
function probe(): Result {
  const buf = new Uint8Array(2 * CHUNK);
  const fd = fs.openSync(file, "r");
  const st = new Probe();
  let carry = 0;
  try {
    for (;;) {
      const read = fs.readSync(fd, buf, carry, CHUNK, null);
      const eof = read === 0;
      const n = carry + read;
      let end = n; // bytes [0, end) hold complete lines
      if (!eof) {
        while (end > 0 && buf[end - 1] !== 10 && buf[end - 1] !== 13) end--;
        if (end === 0) throw new Error("ingest-bytes-probe: a line longer than 4 MiB (not handled)");
      }
      st.scan(buf, end, eof);
      if (eof) break;
      // the context ring: the chunk's last 100 lines as strings
      let k = end - 1;
      for (let cnt = 0; k > 0 && cnt < 100; ) if (buf[--k] === 10) cnt++;
      dec.decode(buf.subarray(k, end));
      carry = n - end;
      buf.copyWithin(0, end, n);
    }
  } finally {
    fs.closeSync(fd);
  }
  return st;
}

/** The same figures from the per-line path (LineSplitter, the pre-test and the metric regex). */
function reference(): Result {
  const splitter = new LineSplitter(65536);
  const dec = new TextDecoder();
  const hits: number[] = [];
  let lines = 0;
  let best = Number.NEGATIVE_INFINITY;
  let progress = 0;
  const emit = (l: string) => {
    lines++;
    if (pre.test(l)) hits.push(lines);
    const m = METRIC.exec(l);
    if (m !== null && Number(m[1]) > best) {
      best = Number(m[1]);
      progress++;
    }
  };
  const buf = new Uint8Array(CHUNK);
  const fd = fs.openSync(file, "r");
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    splitter.push(dec.decode(buf.subarray(0, n), { stream: true }), emit);
  }
  fs.closeSync(fd);
  splitter.end(emit);
  return { lines, hits, best, progress };
}

const want = reference();
const got = probe();
const same =
  got.lines === want.lines &&
  got.best === want.best &&
  got.progress === want.progress &&
  got.hits.length === want.hits.length &&
  got.hits.every((h, i) => h === want.hits[i]);
console.log(
  `per-line path: ${want.lines} lines, ${want.hits.length} pass the pre-test, highest step ${want.best} ` +
    `(${want.progress} progress lines); probe: ${got.lines}, ${got.hits.length}, ${got.best} (${got.progress})`,
);
if (!same) {
  console.error("ingest-bytes-probe: the probe does not see what the per-line path sees");
  process.exit(1);
}

const ERE = perLineERE(pre, DEFAULT_DETECTOR_SPECS);
function grepOnce(): number {
  const p = Bun.spawnSync(["grep", "-cE", ERE, file], { env: { ...process.env, LC_ALL: "C" } });
  if (p.exitCode !== 0 && p.exitCode !== 1) throw new Error(`grep failed: ${p.stderr.toString()}`);
  return Number(p.resourceUsage.cpuTime.user + p.resourceUsage.cpuTime.system) / 1000;
}
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
probe(); // warm-up
grepOnce();
const ours: number[] = [];
const grep: number[] = [];
for (let r = 0; r < RUNS; r++) {
  if (r % 2 === 1) grep.push(grepOnce());
  const c0 = cpuMs();
  probe();
  ours.push(cpuMs() - c0);
  if (r % 2 === 0) grep.push(grepOnce());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) =>
  `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
const ratios = ours.map((o, i) => o / grep[i]!);
const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
console.log(`load average ${load}; CPU time, ${RUNS} rounds`);
console.log(`probe (bytes, JavaScript): ${fmt(ours)}; grep -cE (LC_ALL=C): ${fmt(grep)}`);
console.log(
  `per-round ratios: ${ratios.map((x) => `${x.toFixed(2)}×`).join(" ")}; median ${median(ratios).toFixed(2)}×`,
);
