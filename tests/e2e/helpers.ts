/**
 * @module
 * Harness for end-to-end tests: each test gets a scratch project directory and drives the
 * compiled binary (dist/autosentry) in it, exactly as a user would.
 */
import { afterAll } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO = path.resolve(import.meta.dir, "../..");
export const BIN = path.join(REPO, "dist", "autosentry");
export const FIXTURES = path.join(REPO, "tests", "fixtures");

if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);

const made: string[] = [];
const started: Array<ReturnType<typeof Bun.spawn>> = [];
afterAll(async () => {
  // A test that failed half-way may leave a monitor running: stop it (and, through it, its child).
  for (const p of started) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    p.kill("SIGTERM");
    const done = await Promise.race([p.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
    if (!done) p.kill("SIGKILL");
  }
  if (process.env.AUTOSENTRY_KEEP_TEST_DIRS) return;
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A scratch project: `files` maps relative paths to contents; `config` is the YAML text. */
export function makeProject(files: Record<string, string> = {}, config?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-e2e-"));
  made.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode: rel.endsWith(".sh") ? 0o755 : 0o644 });
  }
  if (config !== undefined) {
    fs.mkdirSync(path.join(dir, ".autosentry"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".autosentry", "autosentry.yaml"), config);
  }
  return dir;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment tests give the binary: the caller's, minus anything that changes its behaviour.
 * `npm test` puts node_modules/.bin on PATH, which holds the real `claude` CLI: it is taken out, so
 * an agent runs only in tests that ask for it (and point it at the fake API).
 */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("AUTOSENTRY_")) env[k] = v;
  }
  env.PATH = (env.PATH ?? "/usr/bin:/bin")
    .split(":")
    .filter((dir) => !dir.endsWith("node_modules/.bin"))
    .join(":");
  for (const k of [
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
  ])
    delete env[k];
  return { ...env, ...extra };
}

/** Run the binary to completion. */
export async function run(
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number; stdin?: string } = { cwd: REPO },
): Promise<RunResult> {
  const p = Bun.spawn([BIN, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? testEnv(),
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 120_000,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

/** Start the binary in the background (e.g. `run`), to be killed or awaited by the test. */
export function start(args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  const p = Bun.spawn([BIN, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? testEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  started.push(p);
  const out = new Response(p.stdout).text();
  const err = new Response(p.stderr).text();
  return {
    proc: p,
    pid: p.pid,
    async wait(timeoutMs = 120_000): Promise<RunResult> {
      const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
      const code = await p.exited;
      clearTimeout(timer);
      return { code, stdout: await out, stderr: await err };
    },
  };
}

/** Poll `cond` every 100 ms until it returns a truthy value, or fail after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  cond: () => T | Promise<T>,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await Bun.sleep(100);
  }
}

/** Parsed `.autosentry/state.json` of a project, or null. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
export function readState(dir: string): Record<string, any> | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, ".autosentry", "state.json"), "utf8"));
  } catch {
    return null;
  }
}

/** Incident folder names of a project, oldest first. */
export function incidentIds(dir: string): string[] {
  const d = path.join(dir, ".autosentry", "incidents");
  if (!fs.existsSync(d)) return [];
  return fs
    .readdirSync(d, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

export function readFile(dir: string, rel: string): string {
  return fs.readFileSync(path.join(dir, rel), "utf8");
}

/** Events of the project's journal. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
export function journal(dir: string): Array<Record<string, any>> {
  const f = path.join(dir, ".autosentry", "logs", "events.jsonl");
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** True if a process with this pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * SIGKILL every process whose working directory is `dir` or inside it (the capture process and the
 * job of a test that ended early: a failed assertion before `abort` left them running after the
 * project was removed). For `finally` blocks of tests that kill monitors.
 */
export function reapProject(dir: string): void {
  const root = fs.realpathSync(dir);
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let cwd: string;
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
    } catch {
      continue;
    }
    if (cwd !== root && !cwd.startsWith(`${root}/`)) continue;
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {}
  }
}
