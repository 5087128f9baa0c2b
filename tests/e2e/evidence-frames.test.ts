/**
 * End-to-end: source frames in real incidents. Each fixture program of tests/fixtures/frames fails
 * inside a method of a class; `autosentry run` (the compiled binary) supervises it from a project
 * whose child cwd is a subdirectory, and the incident's frame files and report.md must show the
 * enclosing method, its class and the failing line marked. Languages whose toolchain is missing
 * on the machine are skipped.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BIN, FIXTURES, incidentIds, makeProject, REPO, readFile, run, testEnv } from "./helpers.ts";

function which(cmd: string): string | null {
  const r = Bun.spawnSync(["sh", "-c", `command -v ${cmd}`], { env: testEnv() });
  const out = r.stdout.toString().trim();
  return r.exitCode === 0 && out !== "" ? out : null;
}

/** The real python3 executable (not a pyenv shim), so it runs with an empty environment. */
function realPython(): string | null {
  if (which("python3") === null) return null;
  const r = Bun.spawnSync(["python3", "-c", "import sys; print(sys.executable)"], { env: testEnv() });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

const PYTHON = realPython();
const BUN_BIN = path.join(REPO, "node_modules", ".bin", "bun");

/** Copy a fixture directory (without its captured trace.txt) into `dest`. */
function copyFixture(name: string, dest: string): void {
  fs.cpSync(path.join(FIXTURES, "frames", name), dest, { recursive: true });
  fs.rmSync(path.join(dest, "trace.txt"), { force: true });
}

function sh(cwd: string, argv: string[]): void {
  const r = Bun.spawnSync(argv, { cwd, env: testEnv(), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr.toString()}`);
}

interface Case {
  lang: string;
  fixture: string;
  /** Needed on PATH (or null when the path is known). */
  tool: string | null;
  /** Builds the program in the app directory (go, rust, java). */
  build?: (app: string) => void;
  command: string[];
  env?: Record<string, string>;
  /** The innermost frame's file name under frames/ (`01-<slug>.md`). */
  frameFile: string;
  where: string;
  hotLine: RegExp;
}

const CASES: Case[] = [
  {
    lang: "python",
    fixture: "python",
    tool: PYTHON,
    command: [PYTHON ?? "python3", "app.py"],
    frameFile: "01-app.py.md",
    where: "**Where:** method `_check` of class `Trainer`, lines 17–20",
    hotLine: /^>>> 19 {14}raise KeyError\("label"\)$/m,
  },
  {
    lang: "javascript",
    fixture: "javascript",
    tool: which("node"),
    command: ["node", "app.mjs"],
    frameFile: "01-app.mjs.md",
    where: "**Where:** method `drain` of class `Queue`, lines 9–18",
    hotLine: /^>>> 13 {10}throw new TypeError\("queue holds a null item"\);$/m,
  },
  {
    lang: "typescript",
    fixture: "typescript",
    tool: fs.existsSync(BUN_BIN) ? BUN_BIN : null,
    command: [BUN_BIN, "ledger.ts"],
    frameFile: "01-ledger.ts.md",
    where: "**Where:** method `withdraw` of class `Ledger`, lines 11–17",
    hotLine: /^>>> 13 {8}throw new RangeError\(`cannot withdraw/m,
  },
  {
    lang: "go",
    fixture: "go",
    tool: which("go"),
    build: (app) => sh(app, ["go", "build", "-o", "inventory", "main.go"]),
    command: ["./inventory"],
    frameFile: "01-main.go.md",
    where: "**Where:** method `Take` of type `Inventory`, lines 10–17",
    hotLine: /^>>> 13 {2}\t\tpanic\(fmt\.Sprintf\("not enough/m,
  },
  {
    lang: "rust",
    fixture: "rust",
    tool: which("rustc"),
    build: (app) => sh(app, ["rustc", "-g", "-o", "account", "main.rs"]),
    command: ["./account"],
    env: { RUST_BACKTRACE: "1" },
    // Frames 1-2 are the Rust standard library (skipped, listed with their reason).
    frameFile: "03-main.rs.md",
    where: "**Where:** method `withdraw` of impl `Account`, lines 13–19",
    hotLine: /^>>> 15 {14}panic!\("\{\} cannot withdraw/m,
  },
  {
    lang: "java",
    fixture: "java",
    tool: which("javac") && which("java"),
    build: (app) => {
      const sources = fs
        .readdirSync(path.join(app, "src/main/java/shop"))
        .map((f) => `src/main/java/shop/${f}`);
      sh(app, ["javac", "-d", "classes", ...sources]);
    },
    command: ["java", "-cp", "classes", "shop.Main"],
    frameFile: "01-Cart.java.md",
    where: "**Where:** method `checkout` of class `Cart`, lines 14–23",
    hotLine: /^>>> 16 {14}throw new IllegalStateException\("cannot check out an empty cart"\);$/m,
  },
];

function config(c: Case): string {
  return [
    "process:",
    `  command: ${JSON.stringify(c.command)}`,
    "  cwd: app",
    "  lifecycle: one_shot",
    ...(c.env ? [`  env: ${JSON.stringify(c.env)}`] : []),
    "detectors:",
    "  - kind: traceback",
    "",
  ].join("\n");
}

describe("source frames through autosentry run", () => {
  for (const c of CASES) {
    test.skipIf(c.tool === null)(
      `${c.lang}: the frame shows the enclosing method, its class and the line`,
      async () => {
        const dir = makeProject({}, config(c));
        const app = path.join(dir, "app");
        copyFixture(c.fixture, app);
        c.build?.(app);
        const r = await run(["run"], { cwd: dir });
        expect(r.code).not.toBe(0);
        const ids = incidentIds(dir);
        expect(ids).toHaveLength(1);
        const inc = `.autosentry/incidents/${ids[0]}`;
        const frame = readFile(dir, `${inc}/frames/${c.frameFile}`);
        expect(frame).toContain(c.where);
        expect(frame).toMatch(c.hotLine);
        const report = readFile(dir, `${inc}/report.md`);
        const section = report.slice(report.indexOf("## Source frames"), report.indexOf("## Stack trace"));
        expect(section).toContain(c.where);
        expect(section).toMatch(c.hotLine);
        const record = JSON.parse(readFile(dir, `${inc}/incident.json`));
        expect(record.frames).toContain(`frames/${c.frameFile}`);
      },
    );
  }
});

describe("the compiled binary on its own", () => {
  test.skipIf(PYTHON === null)(
    "explodes frames from an empty directory under an empty environment, far from any node_modules",
    async () => {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), "as-alone-"));
      try {
        for (let d = base; d !== path.dirname(d); d = path.dirname(d)) {
          expect(fs.existsSync(path.join(d, "node_modules"))).toBe(false);
        }
        const bin = path.join(base, "bin", "autosentry");
        fs.mkdirSync(path.dirname(bin));
        fs.copyFileSync(BIN, bin);
        fs.chmodSync(bin, 0o755);
        const proj = path.join(base, "proj");
        copyFixture("python", path.join(proj, "app"));
        fs.mkdirSync(path.join(proj, ".autosentry"));
        fs.writeFileSync(
          path.join(proj, ".autosentry", "autosentry.yaml"),
          config({ ...CASES[0]!, command: [PYTHON!, "app.py"] }),
        );
        const p = Bun.spawn([bin, "run"], { cwd: proj, env: {}, stdout: "pipe", stderr: "pipe" });
        const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
        const code = await p.exited;
        clearTimeout(timer);
        expect(code).toBe(1);
        const ids = fs
          .readdirSync(path.join(proj, ".autosentry", "incidents"), { withFileTypes: true })
          .filter((e) => e.isDirectory());
        expect(ids).toHaveLength(1);
        const frame = fs.readFileSync(
          path.join(proj, ".autosentry", "incidents", ids[0]!.name, "frames", "01-app.py.md"),
          "utf8",
        );
        expect(frame).toContain(CASES[0]!.where);
        expect(frame).toMatch(CASES[0]!.hotLine);
      } finally {
        fs.rmSync(base, { recursive: true, force: true });
      }
    },
  );
});
