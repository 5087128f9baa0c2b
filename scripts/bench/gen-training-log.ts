/**
 * @module
 * A deterministic, realistic training log for the ingest benchmark: step/loss/lr lines (some
 * rank-prefixed, some through Python logging), tqdm bars redrawn with `\r`, warnings, NCCL and eval
 * lines, JSON metrics, and a few real tracebacks of several languages (from the test fixtures),
 * spread through the file. Same seed, same bytes.
 *
 *   bun scripts/bench/gen-training-log.ts OUT [--lines N] [--seed S]
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRACE_FIXTURES = [
  "python/train_oom.txt",
  "python/chained.txt",
  "node/cause.txt",
  "go/recovered.txt",
  "rust/backtrace.txt",
  "java/caused-by.txt",
];

export interface GeneratedLog {
  /** Newline-terminated records written (a tqdm record holds several `\r`-separated updates). */
  records: number;
  /** Lines as the monitor sees them (`\r` also ends a line). */
  lines: number;
  bytes: number;
  traces: number;
}

/** Write `lines` lines (as the monitor counts them) to `out`. */
export function generateTrainingLog(out: string, lines: number, seed = 42): GeneratedLog {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const tracesDir = path.join(import.meta.dir, "../../tests/fixtures/traces");
  const traces = TRACE_FIXTURES.map((f) =>
    fs.readFileSync(path.join(tracesDir, f), "utf8").trimEnd().split("\n"),
  );
  const traceEvery = Math.floor(lines / 12);
  const fd = fs.openSync(out, "w");
  let buf = "";
  let count = 0;
  let records = 0;
  let bytes = 0;
  let step = 0;
  let traceNo = 0;
  let nextTrace = traceEvery;
  const flush = () => {
    bytes += Buffer.byteLength(buf);
    fs.writeSync(fd, buf);
    buf = "";
  };
  const put = (s: string, n = 1) => {
    buf += `${s}\n`;
    count += n;
    records++;
    if (buf.length > 1 << 20) flush();
  };
  const ts = (s: number) => {
    const t = 1795000000 + s;
    const d = new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19);
    return `${d},${String(Math.floor(rand() * 1000)).padStart(3, "0")}`;
  };
  while (count < lines) {
    if (count >= nextTrace) {
      const t = traces[traceNo % traces.length]!;
      const rank = traceNo % 8;
      for (const l of t) put(traceNo % 2 === 0 ? `[rank${rank}]: ${l}` : l);
      traceNo++;
      nextTrace += traceEvery;
      continue;
    }
    const r = rand();
    step++;
    const loss = (2.5 * Math.exp(-step / 400000) + rand() * 0.05).toFixed(4);
    if (r < 0.45) {
      put(
        `step ${step} loss ${loss} lr 3.0e-04 grad_norm ${(1 + rand()).toFixed(2)} tokens/s ${50000 + Math.floor(rand() * 2000)}`,
      );
    } else if (r < 0.6) {
      put(
        `[rank${Math.floor(rand() * 8)}]: step ${step} throughput ${(800 + rand() * 20).toFixed(1)} samples/s, data wait ${(rand() * 3).toFixed(1)}%`,
      );
    } else if (r < 0.68) {
      // a tqdm bar redrawn 6 times with \r, then a newline
      const parts: string[] = [];
      for (let k = 0; k < 6; k++) {
        const done = (step % 1000) + k;
        const pct = Math.floor((done / 1000) * 100);
        const bar = "█".repeat(Math.floor(pct / 10)).padEnd(10, " ");
        parts.push(
          `Epoch ${Math.floor(step / 1000)}: ${String(pct).padStart(3)}%|${bar}| ${done}/1000 [00:${String(k).padStart(2, "0")}<01:30, 10.${k}it/s, loss=${loss}]`,
        );
      }
      put(parts.join("\r"), parts.length);
    } else if (r < 0.82) {
      put(`${ts(step)} INFO trainer: step=${step} loss=${loss} lr=3.0e-04 epoch=${Math.floor(step / 1000)}`);
    } else if (r < 0.9) {
      put(
        `{"step": ${step}, "loss": ${loss}, "error_rate": 0.0${Math.floor(rand() * 9)}, "exception": null, "ts": ${1795000000 + step}}`,
      );
    } else if (r < 0.94) {
      put(
        pick([
          `${ts(step)} WARNING torch.distributed: gradient overflow at step ${step}, skipping update`,
          "/usr/lib/python3/dist-packages/torch/utils/data.py:558: UserWarning: This DataLoader will create 8 worker processes in total.",
          "  warnings.warn(_create_warning_msg(",
          `W1122 03:04:05.123456  4242 ProcessGroupNCCL.cpp:1270] Warning: step ${step} took longer than expected`,
        ]),
      );
    } else if (r < 0.97) {
      put(
        `NCCL INFO comm 0x55d1c1f3 rank ${Math.floor(rand() * 8)} nranks 8 cudaDev ${Math.floor(rand() * 8)} busId 1000 - Init COMPLETE`,
      );
    } else {
      put(
        `eval at ${String(Math.floor(rand() * 24)).padStart(2, "0")}:00 step ${step}: accuracy ${(0.5 + rand() * 0.4).toFixed(3)} No errors in ${Math.floor(rand() * 1000)} samples`,
      );
    }
  }
  flush();
  fs.closeSync(fd);
  return { records, lines: count, bytes, traces: traceNo };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const out = args[0];
  if (!out) {
    process.stderr.write("usage: bun scripts/bench/gen-training-log.ts OUT [--lines N] [--seed S]\n");
    process.exit(2);
  }
  const opt = (name: string, d: number) => {
    const i = args.indexOf(name);
    return i === -1 ? d : Number(args[i + 1]);
  };
  const r = generateTrainingLog(out, opt("--lines", 2_000_000), opt("--seed", 42));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
