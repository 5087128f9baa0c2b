/**
 * @module
 * Benchmark: the resident memory of the monitor (`autosentry run`, the compiled binary) while it
 * supervises a quiet job, before any traceback (no grammar loaded) and after tracebacks with
 * source frames (the tree-sitter runtime and grammars loaded).
 *
 *   npm run build && bun scripts/bench/incident-memory.ts [--runs N] [--bin PATH]
 *
 * The job (Python) prints a heartbeat every 0.5 s and keeps running. When the script creates a
 * trigger file it prints a real Python traceback (caught, so the child lives on: "no rule, child
 * alive" writes the incident and applies nothing); a second trigger prints the captured traces of
 * the JavaScript, TypeScript, TSX, Go, Rust and Java fixtures, one per settle window, pointing at copies
 * of their sources, so every grammar gets loaded. After each phase the monitor idles for a few
 * seconds and VmRSS of its process (not the shim's, not the job's) is sampled from /proc.
 *
 * The same scenario runs with `source_explode.enabled: false` (frames listed, no source) as the
 * reference. Exit code 1 when the monitor with frames enabled uses more than 5 MB over the
 * reference before any traceback: grammars must load lazily, on the first frame of their language.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const args = process.argv.slice(2);
const opt = (name: string, d: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : d;
};
const REPO = path.resolve(import.meta.dir, "../..");
const BIN = path.resolve(opt("--bin", path.join(REPO, "dist", "autosentry")));
const RUNS = Number(opt("--runs", "3"));
const FIXTURES = path.join(REPO, "tests", "fixtures", "frames");
const LAZY_SLACK_MB = 5;

if (!fs.existsSync(BIN)) {
  process.stderr.write(`${BIN} is missing: run \`npm run build\` first\n`);
  process.exit(2);
}

const python = Bun.spawnSync(["python3", "-c", "import sys; print(sys.executable)"]).stdout.toString().trim();

const JOB = `import os, sys, time, traceback

class Trainer:
    def step(self, batch):
        return batch["label"]

def python_trace():
    try:
        Trainer().step({"x": 1})
    except KeyError:
        traceback.print_exc()
        sys.stderr.flush()

done = set()
while True:
    print("heartbeat", flush=True)
    if os.path.exists("go-python") and "python" not in done:
        done.add("python")
        python_trace()
    if os.path.exists("go-all") and "all" not in done:
        done.add("all")
        for name in sorted(os.listdir("traces")):
            sys.stderr.write(open(os.path.join("traces", name)).read())
            sys.stderr.flush()
            time.sleep(2.0)
    time.sleep(0.5)
`;

const CONFIG = (explode: boolean) => `process:
  command: [${JSON.stringify(python)}, -u, job.py]
monitor:
  settle_seconds: 0.5
  heartbeat_seconds: 5
detectors:
  - { kind: traceback, cooldown_seconds: 0 }
source_explode:
  enabled: ${explode}
vault:
  enabled: true
`;

/** The other languages' captured traces, their fixture paths pointing into `dir`. */
function writeTraces(dir: string): number {
  const traces = path.join(dir, "traces");
  fs.mkdirSync(traces);
  const langs = ["javascript", "typescript", "tsx", "go", "rust", "java"];
  langs.forEach((lang, i) => {
    fs.cpSync(path.join(FIXTURES, lang), path.join(dir, lang), { recursive: true });
    // Paths as the job's cwd (the project) sees them: Rust prints the path rustc was given, Java
    // only the file name (found under src/main/java/<package>/).
    if (lang === "java")
      fs.cpSync(path.join(FIXTURES, "java", "src"), path.join(dir, "src"), { recursive: true });
    const text = fs
      .readFileSync(path.join(FIXTURES, lang, "trace.txt"), "utf8")
      .replaceAll("<fixture>", dir)
      .replaceAll("at ./main.rs", "at ./rust/main.rs");
    fs.writeFileSync(path.join(traces, `${i}-${lang}.txt`), text.endsWith("\n") ? text : `${text}\n`);
  });
  return langs.length;
}

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

async function sampleMb(pid: number, n = 6, everyMs = 500): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    xs.push(rssKb(pid));
    await Bun.sleep(everyMs);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]! / 1024;
}

function incidents(dir: string): number {
  const d = path.join(dir, ".autosentry", "incidents");
  if (!fs.existsSync(d)) return 0;
  return fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).length;
}

async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

interface Phases {
  idle: number;
  python: number;
  all: number;
}

async function scenario(explode: boolean): Promise<Phases> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-bench-mem-"));
  try {
    fs.writeFileSync(path.join(dir, "job.py"), JOB);
    const others = writeTraces(dir);
    fs.mkdirSync(path.join(dir, ".autosentry"));
    fs.writeFileSync(path.join(dir, ".autosentry", "autosentry.yaml"), CONFIG(explode));
    const p = Bun.spawn([BIN, "run"], { cwd: dir, stdout: "ignore", stderr: "ignore", stdin: "ignore" });
    try {
      await waitFor("the child", () => fs.existsSync(path.join(dir, ".autosentry", "logs", "process.log")));
      await Bun.sleep(4000);
      const idle = await sampleMb(p.pid);
      fs.writeFileSync(path.join(dir, "go-python"), "");
      await waitFor("the Python incident", () => incidents(dir) >= 1);
      await Bun.sleep(3000);
      const py = await sampleMb(p.pid);
      fs.writeFileSync(path.join(dir, "go-all"), "");
      await waitFor("the other incidents", () => incidents(dir) >= 1 + others, 120_000);
      await Bun.sleep(3000);
      const all = await sampleMb(p.pid);
      const sample = fs
        .readdirSync(path.join(dir, ".autosentry", "incidents"))
        .filter((n) => n !== "index.jsonl");
      const rendered = sample.filter((id) =>
        fs
          .readFileSync(path.join(dir, ".autosentry", "incidents", id, "report.md"), "utf8")
          .includes("**Where:**"),
      ).length;
      if (explode && rendered !== 1 + others) {
        throw new Error(`expected ${1 + others} incidents with rendered source, found ${rendered}`);
      }
      return { idle, python: py, all };
    } finally {
      p.kill("SIGTERM");
      await p.exited;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

const on: Phases[] = [];
const off: Phases[] = [];
for (let i = 0; i < RUNS; i++) {
  on.push(await scenario(true));
  off.push(await scenario(false));
  process.stderr.write(`run ${i + 1}/${RUNS} done\n`);
}

const row = (label: string, xs: Phases[]) => {
  const col = (k: keyof Phases) =>
    `${median(xs.map((x) => x[k])).toFixed(1)} (${range(xs.map((x) => x[k]))})`;
  return `| ${label} | ${col("idle")} | ${col("python")} | ${col("all")} |`;
};
console.log(`Monitor VmRSS in MB, median (range) of ${RUNS} runs; ${BIN}`);
console.log("");
console.log(
  "| source_explode | idle, no traceback yet | after the first Python traceback | after traces in all 7 grammars' languages |",
);
console.log("|---|---|---|---|");
console.log(row("enabled (default)", on));
console.log(row("disabled (frames listed, no source)", off));

const lazyGap = median(on.map((x) => x.idle)) - median(off.map((x) => x.idle));
console.log("");
console.log(`idle difference enabled − disabled: ${lazyGap.toFixed(1)} MB (limit ${LAZY_SLACK_MB} MB)`);
if (lazyGap > LAZY_SLACK_MB) process.exitCode = 1;
