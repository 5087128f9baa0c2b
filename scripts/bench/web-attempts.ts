/**
 * @module
 * Benchmark: the viewer's attempts page and `/api/attempts` over a large attempts ledger — a
 * project with only a generated ledger (`gen-ledger.ts`, 100,000 rows by default, 17 MB) and no
 * incidents, the case scripts/bench/web.ts does not cover.
 *
 *   bun scripts/bench/web-attempts.ts [--rows N] [--runs N] [--bin PATH] [--ref PATH]
 *
 * Each run starts the compiled binary's viewer afresh (`web --port 0`) and makes 22 requests over
 * HTTP on 127.0.0.1: GET /attempts and /api/attempts (all time), then for each of 10 windows
 * (`since` = 60d … 1h) the page and the API with that window — every window is a fresh answer, the
 * API right after its page is what the page's chart script asks for. It reports the wall time of
 * the first page (the whole ledger read), the median windowed page, the median API answer and its
 * size, then the server's VmRSS right after, 2 s later, and its peak over the run (VmHWM, start-up
 * included; target < 100 MB as for the rest of the viewer, docs/benchmarks.md). Then 5 more GET
 * /attempts (all time, the cached answer while the ledger is unchanged).
 * `--ref PATH` measures an earlier build the same way, interleaved run by run (reference first).
 * The report gives per measure the median over runs with the min–max. Exit code 1 when `--bin`
 * misses the memory target.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ledgerPath } from "../../src/fixes/ledger.ts";
import { generateLedger } from "./gen-ledger.ts";
import { median, printRunTable } from "./run-table.ts";

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const ROWS = opt("--rows", 100_000);
const RUNS = opt("--runs", 3);
const binAt = args.indexOf("--bin");
const BIN = path.resolve(binAt >= 0 ? args[binAt + 1]! : path.join(import.meta.dir, "../../dist/autosentry"));
const refAt = args.indexOf("--ref");
const REF = refAt >= 0 ? path.resolve(args[refAt + 1]!) : null;
const WINDOWS = ["60d", "30d", "14d", "7d", "3d", "2d", "24h", "12h", "6h", "1h"];

function procMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function get(url: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const res = await fetch(url);
  const body = await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return { ms: performance.now() - t, bytes: body.byteLength };
}

async function startServer(
  bin: string,
  cwd: string,
): Promise<{ url: string; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn([bin, "web", "--port", "0"], { cwd, stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`web exited: ${out}`);
    out += new TextDecoder().decode(value);
    const m = /listening on (http:\/\/\S+\/)/.exec(out);
    if (m) {
      await get(`${m[1]}healthz`);
      return { url: m[1]!, proc };
    }
  }
}

type Add = (k: string, v: number) => void;

async function measure(bin: string, root: string, add: Add): Promise<void> {
  const s = await startServer(bin, root);
  const pid = s.proc.pid;
  try {
    add("server VmHWM after start (MB)", procMb(pid, "VmHWM"));
    add("first GET /attempts (whole ledger) (ms)", (await get(`${s.url}attempts`)).ms);
    const api = [await get(`${s.url}api/attempts`)];
    const pages: number[] = [];
    for (const w of WINDOWS) {
      pages.push((await get(`${s.url}attempts?since=${w}`)).ms);
      api.push(await get(`${s.url}api/attempts?since=${w}`));
    }
    add("GET /attempts?since=W (10 windows), median (ms)", median(pages));
    add("GET /api/attempts[?since=W] (11), median (ms)", median(api.map((a) => a.ms)));
    add("GET /api/attempts (all time) body (KB)", api[0]!.bytes / 1024);
    add("server VmRSS right after the 22 requests (MB)", procMb(pid, "VmRSS"));
    await Bun.sleep(2000);
    add("server VmRSS 2 s after the requests (MB)", procMb(pid, "VmRSS"));
    add("server VmRSS peak (VmHWM) (MB)", procMb(pid, "VmHWM"));
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push((await get(`${s.url}attempts`)).ms);
    add("GET /attempts again (ledger unchanged), median (ms)", median(warm));
  } finally {
    s.proc.kill("SIGTERM");
    await s.proc.exited;
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "as-bench-web-attempts-"));
try {
  fs.mkdirSync(path.join(root, ".autosentry"), { recursive: true });
  fs.writeFileSync(
    path.join(root, ".autosentry", "autosentry.yaml"),
    "process:\n  command: [python, train.py]\n",
  );
  const bytes = generateLedger(ledgerPath(root), ROWS);
  console.log(`generated a ${ROWS}-row ledger (${(bytes / 1e6).toFixed(1)} MB) in ${root}`);
  const collector = () => {
    const per: Record<string, number[]> = {};
    const add: Add = (k, v) => {
      per[k] ??= [];
      per[k].push(v);
    };
    return { per, add };
  };
  const main = collector();
  const ref = REF ? collector() : null;
  for (let r = 0; r < RUNS; r++) {
    if (REF && ref) await measure(REF, root, ref.add);
    await measure(BIN, root, main.add);
  }
  const targets: Record<string, number> = {
    "server VmRSS right after the 22 requests (MB)": 100,
    "server VmRSS 2 s after the requests (MB)": 100,
    "server VmRSS peak (VmHWM) (MB)": 100,
  };
  const report = (title: string, per: Record<string, number[]>): boolean =>
    printRunTable(
      `${title}: ${RUNS} runs; median (min–max over runs); load ${os.loadavg()[0]!.toFixed(2)}`,
      per,
      targets,
    );
  const missed = report(BIN, main.per);
  if (REF && ref) report(`${REF} (reference, interleaved)`, ref.per);
  process.exitCode = missed ? 1 : 0;
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
