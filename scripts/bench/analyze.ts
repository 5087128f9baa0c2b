/**
 * @module
 * Benchmark: `autosentry analyze --json` on a generated 100 000-row attempts ledger.
 *
 *   bun scripts/bench/analyze.ts [--rows N] [--runs N] [--bin PATH]
 *
 * Measures (median and max of `runs` runs, wall time):
 * 1. in process: read + parse + window filter + summarise + JSON.stringify (renderAnalyze);
 * 2. `dist/autosentry analyze --json` (or `--bin PATH`), the compiled binary, when it exists
 *    (process start included).
 * The target is under 1 s for both. Exit code 1 when a median misses it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderAnalyze } from "../../src/cli/commands/analyze.ts";
import { ledgerPath } from "../../src/fixes/ledger.ts";
import { generateLedger as generate } from "./gen-ledger.ts";

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const ROWS = opt("--rows", 100_000);
const RUNS = opt("--runs", 7);
const TARGET_MS = 1000;

function stats(ms: number[]): { median: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-bench-analyze-"));
try {
  const file = ledgerPath(root);
  const bytes = generate(file, ROWS);
  console.log(`ledger: ${ROWS} rows, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  const results: { name: string; median: number; max: number }[] = [];

  const inProc: number[] = [];
  let total = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const out = renderAnalyze(file, { json: true, since: i % 2 === 0 ? undefined : "30d" });
    inProc.push(performance.now() - t0);
    total = JSON.parse(out).total;
  }
  results.push({ name: "in process (renderAnalyze --json)", ...stats(inProc) });
  if (total <= 0) throw new Error("the summary is empty");

  const binArg = args.indexOf("--bin");
  const bin =
    binArg >= 0
      ? path.resolve(args[binArg + 1] ?? "")
      : path.resolve(import.meta.dir, "../../dist/autosentry");
  if (fs.existsSync(bin)) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const p = Bun.spawnSync([bin, "analyze", "--json"], { cwd: root, env: { ...process.env } });
      times.push(performance.now() - t0);
      if (p.exitCode !== 0) throw new Error(`${bin} analyze failed: ${p.stderr.toString()}`);
      if (JSON.parse(p.stdout.toString()).total !== ROWS)
        throw new Error("the binary saw a different ledger");
    }
    results.push({ name: `${path.basename(bin)} analyze --json (process)`, ...stats(times) });
  } else {
    console.log(`${bin} not built: binary run skipped (npm run build)`);
  }

  let ok = true;
  for (const r of results) {
    const pass = r.median < TARGET_MS;
    ok &&= pass;
    console.log(
      `${r.name}: median ${r.median.toFixed(1)} ms, max ${r.max.toFixed(1)} ms over ${RUNS} runs — ${pass ? "ok" : "OVER"} (target < ${TARGET_MS} ms)`,
    );
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
