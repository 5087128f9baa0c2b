/**
 * @module
 * The ingest benchmark's loop (scripts/bench/ingest.ts: chunks → TextDecoder → LineSplitter →
 * DetectorSet.observeLine, the detector set built as the monitor builds it) timed in CPU time of
 * this process (`process.cpuUsage()`, user + system) instead of wall time: on the shared machine,
 * whose load average often exceeds ten on two cores, wall time varies by ±30 % between runs while
 * CPU time varies by a few percent. Prints the median of three runs after a warm-up, in ms.
 *
 *   bun scripts/bench/ingest-cpu.ts [TREE]
 *
 * TREE is the checkout whose src/ is measured (default: this one), so two trees can be compared
 * run by run, alternately, on the same log: run `npm run bench:ingest` once first to generate
 * .bench/training-2000000-42.log.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const here = path.join(import.meta.dir, "../..");
const tree = path.resolve(process.argv[2] ?? here);
const file = path.join(here, ".bench/training-2000000-42.log");
if (!fs.existsSync(file)) {
  console.error(`ingest-cpu: Cannot read ${file}: run \`npm run bench:ingest\` once to generate it`);
  process.exit(2);
}
const { buildDetectors } = await import(path.join(tree, "src/detectors/build.ts"));
const { DEFAULT_DETECTOR_SPECS } = await import(path.join(tree, "src/detectors/defaults.ts"));
const { DetectorSet } = await import(path.join(tree, "src/detectors/set.ts"));
const { LineSplitter } = await import(path.join(tree, "src/util/lines.ts"));

function once(): number {
  // a tree whose buildDetectors has no signatures parameter ignores the second argument
  const set = new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS, { enabled: true, disabled: [] }));
  set.onChildStart(1, Date.now());
  const splitter = new LineSplitter(65536);
  const decoder = new TextDecoder();
  const emit = (line: string) => {
    set.observeLine(line, "stdout", 0, 1);
  };
  const buf = new Uint8Array(4 << 20);
  const c0 = process.cpuUsage();
  const fd = fs.openSync(file, "r");
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    splitter.push(decoder.decode(buf.subarray(0, n), { stream: true }), emit);
  }
  fs.closeSync(fd);
  splitter.end(emit);
  set.flush(0, 1);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

once(); // warm-up (JIT)
const runs = [once(), once(), once()].sort((a, b) => a - b);
console.log(runs[1]!.toFixed(0));
