/**
 * @module
 * Scale benchmark: a project with 10,000 incidents and a 100,000-row attempts ledger. Times, whole
 * process, `incidents list`, `incidents list --group` and `analyze`; and, in process, what writing
 * one more incident costs at 100 incidents and at 10,000 (it must not grow with the history).
 *
 *   bun scripts/bench/scale.ts [--quick] [--json]
 *
 * The first incident is written by the real store; the other 9,999 are copies of its folder with
 * their own ids, times and fingerprints (50 groups), indexed as the store indexes them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ledgerPath } from "../../src/fixes/ledger.ts";
import { FsIncidentStore } from "../../src/incidents/store.ts";
import { newIncident, tracebackDetection } from "../../src/incidents/test-fixtures.ts";
import { MemoryLogger } from "../../src/util/logger.ts";
import { generateLedger } from "./gen-ledger.ts";
import { AUTOSENTRY } from "./peers.ts";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const INCIDENTS = 10_000;
const ROWS = 100_000;
const REPEATS = QUICK ? 3 : 7;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A project with `n` incidents under .autosentry/incidents; returns its root. */
async function project(n: number): Promise<{ root: string; store: FsIncidentStore }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "as-bench-scale-"));
  const dir = path.join(root, ".autosentry", "incidents");
  const store = new FsIncidentStore({ dir, logger: new MemoryLogger() });
  const first = await store.create(newIncident());
  const index = path.join(dir, "index.jsonl");
  const line = JSON.parse(fs.readFileSync(index, "utf8").trim().split("\n")[0]!) as Record<string, unknown>;
  const files = fs.readdirSync(first.dir, { recursive: true, withFileTypes: true });
  const base = Date.parse("2026-01-01T00:00:00Z");
  const lines: string[] = [];
  for (let i = 1; i < n; i++) {
    const t = new Date(base + i * 60_000);
    const id = `${t.toISOString().slice(0, 19).replace(/:/g, "-")}Z-error-traceback`;
    const target = path.join(dir, id);
    fs.mkdirSync(target);
    for (const f of files) {
      const rel = path.relative(first.dir, path.join(f.parentPath, f.name));
      if (f.isDirectory()) fs.mkdirSync(path.join(target, rel), { recursive: true });
      else fs.copyFileSync(path.join(first.dir, rel), path.join(target, rel));
    }
    const group = (i % 50).toString(16).padStart(16, "0");
    lines.push(
      JSON.stringify({ ...line, id, time: t.toISOString(), fingerprint: group, message: `boom ${i % 50}` }),
    );
  }
  fs.appendFileSync(index, `${lines.join("\n")}\n`);
  return { root, store };
}

/** Median wall time of the binary with `argv` in `cwd`. */
function timeBinary(argv: string[], cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const p = Bun.spawnSync([AUTOSENTRY, ...argv], { cwd, stdout: "ignore", stderr: "pipe" });
    times.push(performance.now() - t0);
    if (p.exitCode !== 0) throw new Error(`autosentry ${argv.join(" ")}: ${p.stderr.toString()}`);
  }
  return median(times);
}

/** Median time to write one more incident, in process. */
async function timeCreate(store: FsIncidentStore): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const det = tracebackDetection({ message: `KeyError: 'extra_${i}'` });
    const t0 = performance.now();
    await store.create(newIncident({ detection: det, related: [det] }));
    times.push(performance.now() - t0);
  }
  return median(times);
}

const small = await project(100);
const big = await project(INCIDENTS);
try {
  generateLedger(ledgerPath(big.root), ROWS);
  const result = {
    "incidents list (10,000 incidents)": timeBinary(["incidents", "list"], big.root),
    "incidents list --group": timeBinary(["incidents", "list", "--group"], big.root),
    "analyze (100,000-row ledger)": timeBinary(["analyze"], big.root),
    "writing incident #101, in process": await timeCreate(small.store),
    "writing incident #10,001, in process": await timeCreate(big.store),
  };
  if (args.includes("--json")) console.log(JSON.stringify(result));
  else for (const [k, v] of Object.entries(result)) console.log(`${k}: ${v.toFixed(1)} ms`);
} finally {
  fs.rmSync(small.root, { recursive: true, force: true });
  fs.rmSync(big.root, { recursive: true, force: true });
}
