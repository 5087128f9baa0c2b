/**
 * @module
 * Benchmark: `autosentry web` on a generated project with 10 000 incidents (index.jsonl plus one
 * folder each) and 100 000 journal events, next to `autosentry incidents list --json` on the same data.
 *
 *   bun scripts/bench/web.ts [--incidents N] [--events N] [--runs N] [--requests N] [--bin PATH] [--ref PATH]
 *
 * Each run starts the compiled binary's viewer afresh (`web --port 0`) and measures, over HTTP on
 * 127.0.0.1 (wall time, client side):
 * 1. the first GET / (the overview) after the server answers /healthz: "first page" (target < 100 ms);
 * 2. GET /api/incidents?page=P for `requests` random pages (target: median < 50 ms);
 * 3. GET /incidents?page=P (the HTML page) for `requests` random pages (target: median < 50 ms);
 * 4. GET /api/incidents?q=… (text search over all incidents), /api/events?kind=incident and the
 *    events page (/events?page=P, 100 journal lines rendered);
 * 5. the server's resident size from /proc: VmRSS right after the requests and 2 s later, and its
 *    peak over the whole run, VmHWM, start-up included (target: all < 100 MB);
 * and `incidents list --json` (default 20 and -n N, i.e. all), process start included.
 * The report gives, per measure, the median of the per-run medians with the min–max over runs.
 * `--ref PATH` measures a second binary (an earlier build) the same way, interleaved run by run with
 * `--bin`, and prints its table after the first: a before/after on the same data and the same load.
 * Exit code 1 when a target is missed (by `--bin`). `--keep DIR` only generates the data into DIR.
 * The attempts page over a large ledger is measured by scripts/bench/web-attempts.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { median, printRunTable } from "./run-table.ts";

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const INCIDENTS = opt("--incidents", 10_000);
const EVENTS = opt("--events", 100_000);
const RUNS = opt("--runs", 5);
const REQUESTS = opt("--requests", 200);
const binAt = args.indexOf("--bin");
const BIN = path.resolve(binAt >= 0 ? args[binAt + 1]! : path.join(import.meta.dir, "../../dist/autosentry"));
const refAt = args.indexOf("--ref");
const REF = refAt >= 0 ? path.resolve(args[refAt + 1]!) : null;

const DETECTORS = ["traceback", "oom", "stall", "exit_code", "nan_loss", "disk_full"];
const KINDS = ["error", "stall", "exit", "pattern"];

const ids: string[] = [];

function generate(root: string): void {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const dir = path.join(root, ".autosentry");
  const inc = path.join(dir, "incidents");
  const logs = path.join(dir, "logs");
  fs.mkdirSync(inc, { recursive: true });
  fs.mkdirSync(logs, { recursive: true });
  fs.writeFileSync(path.join(dir, "autosentry.yaml"), "process:\n  command: [python, train.py]\n");
  const t0 = Date.now() - INCIDENTS * 60_000;
  const index: string[] = [];
  for (let i = 0; i < INCIDENTS; i++) {
    const time = new Date(t0 + i * 60_000).toISOString();
    const detector = DETECTORS[rand(DETECTORS.length)]!;
    const id = `${time.slice(0, 19).replace(/:/g, "-")}Z-${detector}-${String(i).padStart(5, "0")}`;
    const e = {
      id,
      time,
      kind: KINDS[rand(KINDS.length)]!,
      detector,
      message: `RuntimeError: step ${rand(100_000)} failed on rank ${rand(64)} (${detector})`,
      exception_type: "RuntimeError",
      fingerprint: `fp${rand(300).toString(16).padStart(14, "0")}`,
      rule: rand(2) ? "restart_on_error" : null,
      action: rand(2) ? "restart" : null,
      source: "rule",
      generation: i + 1,
    };
    index.push(JSON.stringify(e));
    ids.push(id);
    fs.mkdirSync(path.join(inc, id));
    fs.writeFileSync(path.join(inc, id, "report.md"), `# Incident ${id}\n\n${e.message}\n`);
  }
  fs.writeFileSync(path.join(inc, "index.jsonl"), `${index.join("\n")}\n`);
  const events: string[] = [];
  const kinds = [
    "child_started",
    "detection",
    "incident",
    "restart_scheduled",
    "child_exited",
    "recovery_applied",
  ];
  for (let i = 0; i < EVENTS; i++) {
    const event = kinds[i % kinds.length]!;
    events.push(
      JSON.stringify({
        schema_version: 1,
        time: new Date(t0 + i * 6_000).toISOString(),
        run_id: "0123456789abcdef0123456789abcdef",
        stage: null,
        event,
        generation: Math.floor(i / 6) + 1,
        ...(event === "incident"
          ? { incident_id: `inc-${i}`, detector: "traceback", message: "RuntimeError: boom" }
          : {}),
      }),
    );
  }
  fs.writeFileSync(path.join(logs, "events.jsonl"), `${events.join("\n")}\n`);
  fs.writeFileSync(
    path.join(dir, "state.json"),
    JSON.stringify({
      schema_version: 1,
      phase: "completed",
      restarts: 3,
      max_restarts: 50,
      restarts_total: INCIDENTS,
    }),
  );
}

async function timed(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return performance.now() - t;
}

function hwmMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function startServer(
  bin: string,
  cwd: string,
): Promise<{ url: string; proc: ReturnType<typeof Bun.spawn>; startMs: number }> {
  const t = performance.now();
  const proc = Bun.spawn([bin, "web", "--port", "0"], { cwd, stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`web exited: ${out}`);
    out += new TextDecoder().decode(value);
    const m = /listening on (http:\/\/\S+\/)/.exec(out);
    if (m) {
      await timed(`${m[1]}healthz`);
      return { url: m[1]!, proc, startMs: performance.now() - t };
    }
  }
}

async function cli(bin: string, cwd: string, argv: string[]): Promise<number> {
  const t = performance.now();
  const p = Bun.spawn([bin, ...argv], { cwd, stdout: "pipe", stderr: "inherit" });
  await new Response(p.stdout).arrayBuffer();
  if ((await p.exited) !== 0) throw new Error(`${argv.join(" ")} failed`);
  return performance.now() - t;
}

// --keep DIR: generate into DIR and keep it (to look at the viewer by hand); no measuring.
const keepAt = args.indexOf("--keep");
if (keepAt >= 0) {
  const dir = path.resolve(args[keepAt + 1]!);
  fs.mkdirSync(dir, { recursive: true });
  generate(dir);
  console.log(`generated into ${dir}`);
  process.exit(0);
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "as-bench-web-"));
try {
  const g0 = performance.now();
  generate(root);
  console.log(
    `generated ${INCIDENTS} incidents and ${EVENTS} events in ${Math.round(performance.now() - g0)} ms (${root})`,
  );
  const pages = Math.ceil(INCIDENTS / 50);
  let seed = 99;
  const page = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed % pages) + 1;
  };
  type Add = (k: string, v: number) => void;
  const collector = (): { per: Record<string, number[]>; add: Add } => {
    const per: Record<string, number[]> = {};
    return {
      per,
      add: (k, v) => {
        per[k] ??= [];
        per[k].push(v);
      },
    };
  };
  /** One run of every measure on `bin` (the same random pages for every binary). */
  const measure = async (bin: string, add: Add): Promise<void> => {
    seed = 99;
    const s = await startServer(bin, root);
    try {
      add("server start until /healthz answers (ms)", s.startMs);
      add("server VmRSS after start (MB)", rssMb(s.proc.pid));
      add("server VmHWM after start (MB)", hwmMb(s.proc.pid));
      add("first GET / (overview) (ms)", await timed(s.url));
      const api: number[] = [];
      const html: number[] = [];
      for (let i = 0; i < REQUESTS; i++) api.push(await timed(`${s.url}api/incidents?page=${page()}`));
      for (let i = 0; i < REQUESTS; i++) html.push(await timed(`${s.url}incidents?page=${page()}`));
      add("GET /api/incidents?page=P, median (ms)", median(api));
      add("GET /incidents?page=P (HTML), median (ms)", median(html));
      const one: number[] = [];
      for (let i = 0; i < 50; i++) one.push(await timed(`${s.url}incidents/${ids[(i * 197) % ids.length]}`));
      add("GET /incidents/<id> (report rendered), median (ms)", median(one));
      const search: number[] = [];
      for (let i = 0; i < 20; i++) search.push(await timed(`${s.url}api/incidents?q=rank+${i}&detector=oom`));
      add("GET /api/incidents?q=…&detector=…, median (ms)", median(search));
      const ev: number[] = [];
      for (let i = 0; i < 20; i++) ev.push(await timed(`${s.url}api/events?kind=incident&page=${i + 1}`));
      add("GET /api/events?kind=incident&page=P, median (ms)", median(ev));
      const evHtml: number[] = [];
      for (let i = 0; i < 20; i++) evHtml.push(await timed(`${s.url}events?page=${i * 37 + 1}`));
      add("GET /events?page=P (HTML, 100 events), median (ms)", median(evHtml));
      const ov: number[] = [];
      for (let i = 0; i < 20; i++) ov.push(await timed(s.url));
      add("GET / (overview) warm, median (ms)", median(ov));
      add("server VmRSS right after the requests (MB)", rssMb(s.proc.pid));
      await Bun.sleep(2000);
      add("server VmRSS 2 s after the requests (MB)", rssMb(s.proc.pid));
      add("server VmRSS peak (VmHWM) (MB)", hwmMb(s.proc.pid));
    } finally {
      s.proc.kill("SIGTERM");
      await s.proc.exited;
    }
    add("`incidents list --json` (20 newest) (ms)", await cli(bin, root, ["incidents", "list", "--json"]));
    add(
      `\`incidents list --json -n ${INCIDENTS}\` (ms)`,
      await cli(bin, root, ["incidents", "list", "--json", "-n", String(INCIDENTS)]),
    );
  };
  const main = collector();
  const ref = REF ? collector() : null;
  for (let r = 0; r < RUNS; r++) {
    if (REF && ref) await measure(REF, ref.add);
    await measure(BIN, main.add);
  }
  const targets: Record<string, number> = {
    "first GET / (overview) (ms)": 100,
    "GET /api/incidents?page=P, median (ms)": 50,
    "GET /incidents?page=P (HTML), median (ms)": 50,
    "server VmRSS right after the requests (MB)": 100,
    "server VmRSS 2 s after the requests (MB)": 100,
    "server VmRSS peak (VmHWM) (MB)": 100,
  };
  const report = (title: string, per: Record<string, number[]>): boolean =>
    printRunTable(
      `${title}: ${RUNS} runs, ${REQUESTS} requests per page measure per run; median (min–max over runs)`,
      per,
      targets,
    );
  const missed = report(BIN, main.per);
  if (REF && ref) report(`${REF} (reference, interleaved)`, ref.per);
  process.exitCode = missed ? 1 : 0;
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
