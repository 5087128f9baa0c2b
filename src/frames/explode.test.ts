/**
 * Golden tests: one fixture program per language (tests/fixtures/frames/<lang>/) whose failure
 * happens inside a method of a class, with the real trace it printed (trace.txt, re-captured by
 * capture.sh). The Trace objects are built here by hand from that trace's frames; each test first
 * checks that the frame really is in the captured trace, then what explodeFrames makes of it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Frame, Trace, TraceLanguage } from "../core/types.ts";
import { explodeFrames } from "./explode.ts";
import type { ExplodedFrame, ExplodeOptions } from "./types.ts";

const made: string[] = [];
/** A fresh temporary directory, removed after the file's tests. */
function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

const FIXTURES = path.resolve(import.meta.dir, "../../tests/fixtures/frames");
const dir = (lang: string) => path.join(FIXTURES, lang);

const OPTS: ExplodeOptions = {
  cwd: FIXTURES,
  skipPaths: ["site-packages/", ".venv/", "node_modules/", "/usr/lib/"],
  maxFrames: 20,
  contextLines: 10,
  scopeWindowLines: 60,
  languages: ["python", "javascript", "typescript", "tsx", "go", "rust", "java"],
  git: false,
};

/** The captured trace, with the placeholder put back to this checkout's path. */
function capturedTrace(lang: string): string {
  return fs.readFileSync(path.join(dir(lang), "trace.txt"), "utf8").replaceAll("<fixture>", FIXTURES);
}

function frame(file: string, line: number, fn: string | null, raw = `${file}:${line}`): Frame {
  return { file, line, function: fn, raw };
}

function traceOf(language: TraceLanguage, frames: Frame[], type = "Error"): Trace {
  return { language, text: "", exceptions: [{ type, message: "boom", frames }] };
}

/** The frame shows exactly lines start..end, with `>>>` on `hot` only, and the scope is named. */
function expectMethod(
  ef: ExplodedFrame | undefined,
  want: { name: string; className: string | null; start: number; end: number; hot: number; hotText: string },
): void {
  expect(ef?.status).toBe("rendered");
  expect(ef!.scope?.name).toBe(want.name);
  expect(ef!.scope?.className).toBe(want.className);
  expect(ef!.fallback).toBeNull();
  const src = ef!.source!;
  expect([src.firstLine, src.lastLine, src.hiddenAbove, src.hiddenBelow]).toEqual([
    want.start,
    want.end,
    0,
    0,
  ]);
  const lines = src.text.split("\n");
  expect(lines.length).toBe(want.end - want.start + 1);
  const numbers = lines.map((l) => Number(/^(?:>>>| {3}) +(\d+) {2}/.exec(l)?.[1]));
  expect(numbers).toEqual(Array.from({ length: want.end - want.start + 1 }, (_, i) => want.start + i));
  const marked = lines.filter((l) => l.startsWith(">>>"));
  expect(marked).toHaveLength(1);
  expect(marked[0]).toMatch(new RegExp(`^>>> +${want.hot}  `));
  expect(marked[0]).toContain(want.hotText);
}

describe("python", () => {
  const py = dir("python");
  const app = path.join(py, "app.py");
  const lib = path.join(py, "site-packages", "retry.py");
  const raw = (file: string, line: number, fn: string) => `File "${file}", line ${line}, in ${fn}`;
  // Innermost first: the reverse of Python's "most recent call last".
  const frames = [
    frame(app, 19, "_check", raw(app, 19, "_check")),
    frame(app, 54, "step", raw(app, 54, "step")),
    frame(lib, 6, "call_with_retry", raw(lib, 6, "call_with_retry")),
    frame(app, 90, "main", raw(app, 90, "main")),
    frame(app, 93, "<module>", raw(app, 93, "<module>")),
  ];
  const trace = traceOf("python", frames, "KeyError");

  test("the hand-built frames are the captured trace's frames", () => {
    const text = capturedTrace("python");
    for (const f of frames) expect(text).toContain(f.raw);
    expect(text).toContain("KeyError: 'label'");
  });

  test("the innermost frame shows exactly the method, its class and the marked line", async () => {
    const out = await explodeFrames(trace, { ...OPTS, cwd: py });
    expectMethod(out[0], {
      name: "_check",
      className: "Trainer",
      start: 17,
      end: 20,
      hot: 19,
      hotText: 'raise KeyError("label")',
    });
    expect(out[0]!.scope?.label).toBe("method");
    expect(out[0]!.displayPath).toBe("app.py");
    expect(out[0]!.fence).toBe("python");
  });

  test("a method longer than the window keeps its header and is cut around the line (default 60)", async () => {
    const out = await explodeFrames(trace, { ...OPTS, cwd: py });
    const step = out[1]!;
    expect(step.scope).toMatchObject({ name: "step", className: "Trainer", startLine: 22, endLine: 85 });
    const src = step.source!;
    expect([src.hiddenAbove, src.hiddenBelow]).toEqual([0, 4]);
    const lines = src.text.split("\n");
    expect(lines[0]).toMatch(/^ {3} +22 {2} {4}def step\(self, batch\):$/);
    expect(lines.filter((l) => /^(?:>>>| {3}) +\d+ {2}/.test(l))).toHaveLength(60);
    expect(lines[lines.length - 1]).toBe("        … 4 lines not shown (82–85) …");
    expect(lines.find((l) => l.startsWith(">>>"))).toBe(
      '>>> 54          metrics["label"] = self._check(batch)',
    );
  });

  test("a smaller window cuts both sides and says what was cut", async () => {
    const out = await explodeFrames(trace, { ...OPTS, cwd: py, scopeWindowLines: 20 });
    const lines = out[1]!.source!.text.split("\n");
    expect(lines[0]).toContain("def step(self, batch):");
    expect(lines[1]).toBe("        … 19 lines not shown (23–41) …");
    expect(lines[2]).toMatch(/^ {3} +42 {2}/);
    expect(lines[lines.length - 2]).toMatch(/^ {3} +60 {2}/);
    expect(lines[lines.length - 1]).toBe("        … 25 lines not shown (61–85) …");
    expect(lines.filter((l) => /^(?:>>>| {3}) +\d+ {2}/.test(l))).toHaveLength(20);
  });

  test("library frames are listed with their reason and do not count against max_frames", async () => {
    const out = await explodeFrames(trace, { ...OPTS, cwd: py, maxFrames: 3 });
    expect(out.map((f) => f.status)).toEqual(["rendered", "rendered", "skipped", "rendered", "omitted"]);
    expect(out[2]!.reason).toBe('library or vendored path (matches "site-packages/")');
    expect(out[2]!.source).toBeNull();
    expect(out[3]!.scope).toMatchObject({ name: "main", className: null, label: "function" });
    expect(out[4]!.reason).toBe("max_frames (3) reached");
  });

  test("top-level code falls back to ±context_lines", async () => {
    const out = await explodeFrames(trace, { ...OPTS, cwd: py, contextLines: 3 });
    const mod = out[4]!;
    expect(mod.status).toBe("rendered");
    expect(mod.scope).toBeNull();
    expect(mod.fallback).toBe("top-level code (no enclosing function or class)");
    // The file has 93 lines: the window is clamped at the end.
    expect([mod.source!.firstLine, mod.source!.lastLine]).toEqual([90, 93]);
    expect(mod.source!.text.split("\n").at(-1)).toBe(">>> 93  main()");
  });

  test("a language left out of source_explode.languages gets the plain window", async () => {
    const out = await explodeFrames(trace, { ...OPTS, cwd: py, contextLines: 2, languages: ["go"] });
    expect(out[0]!.scope).toBeNull();
    expect(out[0]!.fallback).toBe("python is not in source_explode.languages");
    expect([out[0]!.source!.firstLine, out[0]!.source!.lastLine]).toEqual([17, 21]);
  });

  test("relative paths resolve against the child's cwd, not the monitor's", async () => {
    const rel = traceOf("python", [frame("app.py", 19, "_check")]);
    const here = await explodeFrames(rel, { ...OPTS, cwd: py });
    expect(here[0]!.path).toBe(app);
    expect(here[0]!.scope?.name).toBe("_check");
    const elsewhere = await explodeFrames(rel, { ...OPTS, cwd: os.tmpdir() });
    expect(elsewhere[0]!.status).toBe("skipped");
    expect(elsewhere[0]!.reason).toBe("source file not on disk");
  });
});

describe("javascript (ESM: file:// URLs, node: internals, vendored code)", () => {
  const js = dir("javascript");
  const app = pathToFileURL(path.join(js, "app.mjs")).href;
  const runner = pathToFileURL(path.join(js, "vendor", "runner.mjs")).href;
  const frames = [
    frame(app, 13, "Queue.drain", `at Queue.drain (${app}:13:15)`),
    frame(runner, 3, "runJob", `at runJob (${runner}:3:14)`),
    frame(app, 21, null, `at ${app}:21:1`),
    frame(
      "node:internal/modules/esm/module_job",
      325,
      "ModuleJob.run",
      "at ModuleJob.run (node:internal/modules/esm/module_job:325:25)",
    ),
  ];

  test("the hand-built frames are the captured trace's frames", () => {
    const text = capturedTrace("javascript");
    for (const f of frames) expect(text).toContain(f.raw);
  });

  test("the method of the class, marked; vendored and node: frames skipped with reasons", async () => {
    const out = await explodeFrames(traceOf("node", frames, "TypeError"), {
      ...OPTS,
      cwd: js,
      skipPaths: ["vendor/"],
      contextLines: 2,
    });
    expectMethod(out[0], {
      name: "drain",
      className: "Queue",
      start: 9,
      end: 18,
      hot: 13,
      hotText: 'throw new TypeError("queue holds a null item");',
    });
    expect(out[0]!.path).toBe(path.join(js, "app.mjs"));
    expect(out[0]!.displayPath).toBe("app.mjs");
    expect(out[1]).toMatchObject({
      status: "skipped",
      reason: 'library or vendored path (matches "vendor/")',
    });
    expect(out[2]).toMatchObject({
      status: "rendered",
      fallback: "top-level code (no enclosing function or class)",
    });
    expect([out[2]!.source!.firstLine, out[2]!.source!.lastLine]).toEqual([19, 21]);
    expect(out[3]).toMatchObject({ status: "skipped", reason: "Node.js internal module" });
  });
});

describe("typescript and tsx", () => {
  test("typescript: method withdraw of class Ledger", async () => {
    const file = path.join(dir("typescript"), "ledger.ts");
    const f = frame(file, 13, "withdraw", `at withdraw (${file}:13:17)`);
    expect(capturedTrace("typescript")).toContain(f.raw);
    const out = await explodeFrames(traceOf("node", [f], "RangeError"), { ...OPTS, cwd: dir("typescript") });
    expectMethod(out[0], {
      name: "withdraw",
      className: "Ledger",
      start: 11,
      end: 17,
      hot: 13,
      hotText: "throw new RangeError(",
    });
    expect(out[0]!.language).toBe("typescript");
  });

  test("tsx: method render of class Panel, parsed with the tsx grammar", async () => {
    const file = path.join(dir("tsx"), "panel.tsx");
    const f = frame(file, 9, "render", `at render (${file}:9:17)`);
    expect(capturedTrace("tsx")).toContain(f.raw);
    const out = await explodeFrames(traceOf("node", [f]), { ...OPTS, cwd: dir("tsx") });
    expectMethod(out[0], {
      name: "render",
      className: "Panel",
      start: 7,
      end: 16,
      hot: 9,
      hotText: 'throw new Error("panel without a title");',
    });
    expect(out[0]!.language).toBe("tsx");
    expect(out[0]!.fence).toBe("tsx");
  });
});

describe("go", () => {
  const file = path.join(dir("go"), "main.go");
  const frames = [
    frame(file, 13, "main.(*Inventory).Take", `main.(*Inventory).Take(...)\n\t${file}:13`),
    frame(file, 22, "main.main", `main.main()\n\t${file}:22`),
  ];

  test("a method on a struct type: the receiver names the type", async () => {
    const text = capturedTrace("go");
    // Arguments (pointers) differ between runs; the function and the location do not.
    expect(text).toMatch(new RegExp(`main\\.\\(\\*Inventory\\)\\.Take\\([^\n]*\\)\n\t${file}:13 `));
    expect(text).toContain(`main.main()\n\t${file}:22 `);
    const out = await explodeFrames(traceOf("go", frames, "panic"), { ...OPTS, cwd: dir("go") });
    expectMethod(out[0], {
      name: "Take",
      className: "Inventory",
      start: 10,
      end: 17,
      hot: 13,
      hotText: 'panic(fmt.Sprintf("not enough %s',
    });
    expect(out[0]!.scope).toMatchObject({ label: "method", classLabel: "type" });
    expectMethod(out[1], {
      name: "main",
      className: null,
      start: 19,
      end: 23,
      hot: 22,
      hotText: 'inv.Take("bolts", 2)',
    });
  });

  test("Go runtime frames are skipped", async () => {
    const rt = frame("/usr/local/go/src/runtime/panic.go", 884, "runtime.gopanic");
    const out = await explodeFrames(traceOf("go", [rt]), { ...OPTS, cwd: dir("go") });
    expect(out[0]).toMatchObject({ status: "skipped", reason: "Go runtime or standard library" });
  });
});

describe("rust", () => {
  const rs = dir("rust");
  const std = "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/panicking.rs";
  const frames = [
    frame(
      std,
      80,
      "core::panicking::panic_fmt",
      `1: core::panicking::panic_fmt\n             at ${std}:80:14`,
    ),
    frame(
      "./main.rs",
      15,
      "main::Account::withdraw",
      "2: main::Account::withdraw\n             at ./main.rs:15:13",
    ),
    frame("./main.rs", 24, "main::main", "3: main::main\n             at ./main.rs:24:13"),
  ];

  test("a method in an impl block; the standard library is skipped", async () => {
    const text = capturedTrace("rust");
    for (const f of frames) expect(text).toContain(f.raw);
    const out = await explodeFrames(traceOf("rust", frames, "panic"), { ...OPTS, cwd: rs, maxFrames: 2 });
    expect(out[0]).toMatchObject({ status: "skipped", reason: "Rust standard library" });
    expectMethod(out[1], {
      name: "withdraw",
      className: "Account",
      start: 13,
      end: 19,
      hot: 15,
      hotText: 'panic!("{} cannot withdraw',
    });
    expect(out[1]!.scope).toMatchObject({ label: "method", classLabel: "impl" });
    expectMethod(out[2], {
      name: "main",
      className: null,
      start: 22,
      end: 25,
      hot: 24,
      hotText: "account.withdraw(10);",
    });
  });
});

describe("java", () => {
  const java = dir("java");
  const frames = [
    frame("Cart.java", 16, "shop.Cart.checkout", "at shop.Cart.checkout(Cart.java:16)"),
    frame("Main.java", 6, "shop.Main.main", "at shop.Main.main(Main.java:6)"),
    frame(
      "Thread.java",
      833,
      "java.base/java.lang.Thread.run",
      "at java.base/java.lang.Thread.run(Thread.java:833)",
    ),
  ];

  test("a bare file name is found under its package in the usual source roots", async () => {
    const text = capturedTrace("java");
    for (const f of frames.slice(0, 2)) expect(text).toContain(f.raw);
    const out = await explodeFrames(traceOf("java", frames, "java.lang.IllegalStateException"), {
      ...OPTS,
      cwd: java,
    });
    expect(out[0]!.path).toBe(path.join(java, "src/main/java/shop/Cart.java"));
    expectMethod(out[0], {
      name: "checkout",
      className: "Cart",
      start: 14,
      end: 23,
      hot: 16,
      hotText: 'throw new IllegalStateException("cannot check out an empty cart");',
    });
    expect(out[1]!.scope).toMatchObject({ name: "main", className: "Main", label: "method" });
    expect(out[2]).toMatchObject({ status: "skipped", reason: "JDK class" });
  });
});

describe("files without a grammar and files that are not there", () => {
  test("a C frame in a Python trace gets ±context_lines, fenced as c", async () => {
    const c = path.join(dir("other"), "ring.c");
    const out = await explodeFrames(traceOf("python", [frame(c, 12, "ring_pop")]), {
      ...OPTS,
      contextLines: 2,
    });
    expect(out[0]).toMatchObject({ status: "rendered", language: null, fence: "c", scope: null });
    expect(out[0]!.fallback).toBe("no grammar for .c files");
    expect(out[0]!.source!.text).toBe(
      [
        "    10  int ring_pop(struct ring *r) {",
        "    11      if (r->size == 0) {",
        ">>> 12          abort();",
        "    13      }",
        "    14      int v = r->slots[r->head];",
      ].join("\n"),
    );
  });

  test("pseudo-files, missing files and lines past the end are skipped with the reason", async () => {
    const app = path.join(dir("python"), "app.py");
    const out = await explodeFrames(
      traceOf("python", [
        frame("<frozen importlib._bootstrap>", 1006, "_find_and_load"),
        frame("/nonexistent/x.py", 3, "f"),
        frame(app, 500, "gone"),
        frame("file://%zz", 1, "bad"),
      ]),
      OPTS,
    );
    expect(out.map((f) => f.reason)).toEqual([
      "not a source file",
      "source file not on disk",
      "line 500 is past the end of the file (93 lines): changed since the trace?",
      "not a file URL: file://%zz",
    ]);
    expect(out.every((f) => f.status === "skipped")).toBe(true);
  });

  test("an unreadable file is skipped with the error", async () => {
    // A regular file that stat accepts and read refuses (EIO), whoever runs the test.
    const out = await explodeFrames(traceOf("python", [frame("/proc/self/mem", 1, "f")]), OPTS);
    expect(out[0]!.status).toBe("skipped");
    expect(out[0]!.reason).toMatch(/^unreadable: EIO/);
  });

  test("a trace without exceptions explodes to nothing", async () => {
    expect(await explodeFrames({ language: "python", text: "", exceptions: [] }, OPTS)).toEqual([]);
  });

  test("the frames are those of the final exception of a chain", async () => {
    const app = path.join(dir("python"), "app.py");
    const chained: Trace = {
      language: "python",
      text: "",
      exceptions: [
        { type: "KeyError", message: "x", frames: [frame(app, 19, "_check")] },
        { type: "RuntimeError", message: "y", frames: [frame(app, 90, "main")] },
      ],
    };
    const out = await explodeFrames(chained, OPTS);
    expect(out.map((f) => f.scope?.name)).toEqual(["main"]);
  });
});

describe("git history", () => {
  function sh(cwd: string, ...args: string[]): void {
    const r = Bun.spawnSync(args, { cwd, env: { ...process.env, GIT_AUTHOR_DATE: "2026-01-02T03:04:05Z" } });
    if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString()}`);
  }

  test("tracked files get their last commits and whether they have uncommitted changes", async () => {
    const repo = tempDir("frames-git-");
    sh(repo, "git", "init", "-q");
    sh(repo, "git", "config", "user.name", "Ada Lovelace");
    sh(repo, "git", "config", "user.email", "ada@example.com");
    const file = path.join(repo, "job.py");
    for (let i = 1; i <= 4; i++) {
      fs.writeFileSync(file, `def run():\n    raise ValueError(${i})\n`);
      sh(repo, "git", "add", "job.py");
      sh(repo, "git", "commit", "-q", "-m", `change ${i}`);
    }
    fs.writeFileSync(path.join(repo, "other.py"), "def other():\n    raise ValueError(0)\n");
    const t = traceOf("python", [frame(file, 2, "run"), frame(path.join(repo, "other.py"), 2, "other")]);

    const clean = await explodeFrames(t, { ...OPTS, cwd: repo, git: true });
    expect(clean[0]!.git?.dirty).toBe(false);
    expect(clean[0]!.git?.commits.map((c) => c.subject)).toEqual(["change 4", "change 3", "change 2"]);
    expect(clean[0]!.git?.commits[0]).toMatchObject({ author: "Ada Lovelace", date: "2026-01-02" });
    expect(clean[0]!.git?.commits[0]?.hash).toMatch(/^[0-9a-f]{7,}$/);
    expect(clean[1]!.git).toBeNull(); // untracked

    fs.appendFileSync(file, "# edited\n");
    const dirty = await explodeFrames(t, { ...OPTS, cwd: repo, git: true });
    expect(dirty[0]!.git?.dirty).toBe(true);
    expect(fs.existsSync(path.join(repo, ".git", "index.lock"))).toBe(false);

    const off = await explodeFrames(t, { ...OPTS, cwd: repo, git: false });
    expect(off[0]!.git).toBeNull();
  });

  test("a file outside any repository has no history", async () => {
    const d = tempDir("frames-nogit-");
    fs.writeFileSync(path.join(d, "a.py"), "def f():\n    pass\n");
    const out = await explodeFrames(traceOf("python", [frame(path.join(d, "a.py"), 2, "f")]), {
      ...OPTS,
      cwd: d,
      git: true,
    });
    expect(out[0]!.status).toBe("rendered");
    expect(out[0]!.git).toBeNull();
  });
});
