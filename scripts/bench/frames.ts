/**
 * @module
 * Benchmark: writing the source frames of an incident with 20 rendered frames, grammars warm.
 *
 *   bun scripts/bench/frames.ts [--runs N] [--git-runs N]
 *
 * The trace mixes every language: the golden-test fixtures (small files, library, `node:` and
 * standard-library frames that are skipped) plus generated large modules (a 3 000-line Python
 * file, a 3 000-line TypeScript file, a 2 000-line Go file) in a temporary git repository with a
 * few commits. One iteration = explodeFrames + renderFrameFile for each frame +
 * renderFramesSection + redaction of all that text + writing the files into a fresh incident
 * folder; that is everything the incident store will do for frames.
 *
 * Reports p50/p95/max with git history off and on (the target, p95 under 50 ms, is for the
 * default, git on), the RSS of the process before any grammar is loaded, after Python alone and
 * after all seven, and the redactor's throughput on a 10 MB log. Exit code 1 when a p95 misses
 * the target.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Frame, Trace } from "../../src/core/types.ts";
import { explodeFrames } from "../../src/frames/explode.ts";
import { loadedGrammars, loadGrammar } from "../../src/frames/grammars.ts";
import { frameFiles, renderFramesSection } from "../../src/frames/render.ts";
import type { ExplodeOptions } from "../../src/frames/types.ts";
import { createRedactor } from "../../src/redact/redactor.ts";

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const RUNS = opt("--runs", 200);
const GIT_RUNS = opt("--git-runs", 100);
const TARGET_MS = 50;
const FIXTURES = path.resolve(import.meta.dir, "../../tests/fixtures/frames");

function sh(cwd: string, ...cmd: string[]): void {
  const r = Bun.spawnSync(cmd, { cwd });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}

/** Large modules: `classes` classes of `methods` methods, 5 lines each; returns the hot lines. */
function generate(
  file: string,
  lang: "python" | "typescript" | "go",
  classes: number,
  methods: number,
): number[] {
  const out: string[] = [];
  const hot: number[] = [];
  for (let c = 0; c < classes; c++) {
    if (lang === "python") out.push(`class Service${c}:`);
    else if (lang === "typescript") out.push(`export class Service${c} {`);
    else out.push(`type Service${c} struct{ n int }`);
    for (let m = 0; m < methods; m++) {
      if (lang === "python") {
        out.push(`    def handle_${m}(self, request):`, `        value = request.get("k${m}")`);
        hot.push(out.length + 1);
        out.push(`        result = self.compute(value) / ${m + 1}`, "        return result", "");
      } else if (lang === "typescript") {
        out.push(
          `  handle${m}(request: Map<string, number>): number {`,
          `    const value = request.get("k${m}") ?? 0;`,
        );
        hot.push(out.length + 1);
        out.push(`    return this.compute(value) / ${m + 1};`, "  }", "");
      } else {
        out.push(
          `func (s *Service${c}) Handle${m}(request map[string]int) int {`,
          `\tvalue := request["k${m}"]`,
        );
        hot.push(out.length + 1);
        out.push(`\treturn s.n / (value - ${m})`, "}", "");
      }
    }
    if (lang !== "go") out.push(lang === "python" ? "" : "}");
  }
  fs.writeFileSync(file, `${out.join("\n")}\n`);
  return hot;
}

const frame = (file: string, line: number, fn: string): Frame => ({
  file,
  line,
  function: fn,
  raw: `${file}:${line}`,
});

function buildTrace(repo: string): Trace {
  const py = generate(path.join(repo, "service.py"), "python", 60, 10);
  const ts = generate(path.join(repo, "service.ts"), "typescript", 60, 10);
  const go = generate(path.join(repo, "service.go"), "go", 40, 10);
  sh(repo, "git", "init", "-q");
  sh(repo, "git", "-c", "user.name=b", "-c", "user.email=b@x", "add", ".");
  for (let i = 0; i < 5; i++) {
    fs.appendFileSync(path.join(repo, "service.py"), `# edit ${i}\n`);
    sh(repo, "git", "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qam", `edit ${i}`);
  }
  fs.appendFileSync(path.join(repo, "service.ts"), "// uncommitted\n");
  const f = (p: string) => path.join(FIXTURES, p);
  const frames: Frame[] = [
    frame(path.join(repo, "service.py"), py[234]!, "handle_4"),
    frame(path.join(repo, "service.py"), py[17]!, "handle_7"),
    frame(f("python/site-packages/retry.py"), 6, "call_with_retry"),
    frame(path.join(repo, "service.py"), py[400]!, "handle_0"),
    frame(f("python/app.py"), 19, "_check"),
    frame(f("python/app.py"), 54, "step"),
    frame(f("python/app.py"), 90, "main"),
    frame(path.join(repo, "service.ts"), ts[99]!, "handle9"),
    frame(path.join(repo, "service.ts"), ts[555]!, "handle5"),
    frame("node:internal/modules/esm/module_job", 325, "ModuleJob.run"),
    frame(f("javascript/app.mjs"), 13, "Queue.drain"),
    frame(f("typescript/ledger.ts"), 13, "withdraw"),
    frame(f("tsx/panel.tsx"), 9, "render"),
    frame(path.join(repo, "service.go"), go[321]!, "main.(*Service32).Handle1"),
    frame(f("go/main.go"), 13, "main.(*Inventory).Take"),
    frame(f("go/main.go"), 22, "main.main"),
    frame("/rustc/abc/library/core/src/panicking.rs", 80, "core::panicking::panic_fmt"),
    frame(f("rust/main.rs"), 15, "main::Account::withdraw"),
    frame(f("rust/main.rs"), 24, "main::main"),
    frame(f("java/src/main/java/shop/Cart.java"), 16, "shop.Cart.checkout"),
    frame(f("other/ring.c"), 12, "ring_pop"),
    frame(f("python/app.py"), 93, "<module>"),
    frame(f("java/src/main/java/shop/Main.java"), 6, "shop.Main.main"),
  ];
  return { language: "python", text: "", exceptions: [{ type: "Error", message: "boom", frames }] };
}

function rssMb(): number {
  Bun.gc(true);
  return process.memoryUsage().rss / (1024 * 1024);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timeRuns(
  label: string,
  runs: number,
  trace: Trace,
  opts: ExplodeOptions,
  out: string,
): Promise<{ p50: number; p95: number; max: number; rendered: number }> {
  const redactor = createRedactor();
  const times: number[] = [];
  let rendered = 0;
  for (let i = 0; i < runs; i++) {
    const dir = path.join(out, `${label}-${i}`, "frames");
    const t0 = performance.now();
    const frames = await explodeFrames(trace, opts);
    fs.mkdirSync(dir, { recursive: true });
    for (const file of frameFiles(frames))
      fs.writeFileSync(path.join(dir, file.name), redactor.redact(file.content));
    fs.writeFileSync(path.join(dir, "..", "report.md"), redactor.redact(renderFramesSection(frames)));
    times.push(performance.now() - t0);
    rendered = frames.filter((f) => f.status === "rendered").length;
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p95: pct(times, 95), max: times[times.length - 1]!, rendered };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-frames-"));
try {
  const repo = path.join(work, "repo");
  fs.mkdirSync(repo);
  const trace = buildTrace(repo);
  await Bun.sleep(100);
  const rssNone = rssMb();
  await loadGrammar("python");
  const rssPython = rssMb();
  const opts: ExplodeOptions = {
    cwd: repo,
    skipPaths: ["site-packages/", ".venv/", "node_modules/", "/usr/lib/"],
    maxFrames: 20,
    contextLines: 10,
    scopeWindowLines: 60,
    languages: ["python", "javascript", "typescript", "tsx", "go", "rust", "java"],
  };
  // Warm: every grammar loaded, JIT warmed on the whole path.
  await timeRuns("warm", 5, trace, { ...opts, git: false }, work);
  const rssAll = rssMb();
  const grammars = loadedGrammars().length;

  const noGit = await timeRuns("nogit", RUNS, trace, { ...opts, git: false }, work);
  const withGit = await timeRuns("git", GIT_RUNS, trace, { ...opts, git: true }, work);
  const rssAfter = rssMb();

  // Redactor throughput: a log where every line has key=value pairs (one a secret, one a URL with
  // a password), and a plain training log.
  const redactor = createRedactor();
  const logs: [string, string][] = [
    [
      "key=value log",
      "step=1200 loss=0.4132 lr=3e-4 token=abc123 url=https://u:pw@host/x grad_norm=1.2 rank=3\n",
    ],
    [
      "plain log",
      "2026-11-22 02:15:07 INFO train.py:120 step 1200 | loss 0.4132 | lr 3.0e-04 | 812 samples/s\n",
    ],
  ];
  const throughput = logs.map(([name, line]) => {
    const log = line.repeat(Math.ceil((10 * 1024 * 1024) / line.length));
    redactor.redact(log.slice(0, 1 << 20));
    const t0 = performance.now();
    redactor.redact(log);
    const ms = performance.now() - t0;
    const size = log.length / (1024 * 1024);
    return `${name} ${size.toFixed(1)} MB in ${ms.toFixed(0)} ms (${(size / (ms / 1000)).toFixed(0)} MB/s)`;
  });

  const fmt = (r: { p50: number; p95: number; max: number; rendered: number }) =>
    `p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, max ${r.max.toFixed(1)} ms (${r.rendered} rendered frames)`;
  console.log(`frames, git off (${RUNS} runs): ${fmt(noGit)}`);
  console.log(`frames, git on  (${GIT_RUNS} runs): ${fmt(withGit)}`);
  console.log(
    `RSS: ${rssNone.toFixed(1)} MB before any grammar, ${rssPython.toFixed(1)} MB with python, ` +
      `${rssAll.toFixed(1)} MB with all ${grammars}, ${rssAfter.toFixed(1)} MB after the runs`,
  );
  console.log(`redact: ${throughput.join("; ")}`);
  if (noGit.p95 > TARGET_MS || withGit.p95 > TARGET_MS) {
    console.log(`p95 over the ${TARGET_MS} ms target`);
    process.exitCode = 1;
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
