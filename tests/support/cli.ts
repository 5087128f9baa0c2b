/**
 * @module
 * Helpers for unit tests of commands: scratch directories cleaned after each test, and running the
 * CLI from source (`bun main.ts …`) as its own process, with real stdin and TTY detection.
 */
import { afterEach } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const MAIN = path.resolve(import.meta.dir, "../../main.ts");

/** Register cleanup and return a maker of scratch directories holding `files` (relative paths). */
export function scratchDirs(prefix: string): (files?: Record<string, string>) => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return (files = {}) => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
    dirs.push(dir);
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    }
    return dir;
  };
}

/** Run `autosentry <args>` from source in `cwd`, with `stdin` piped in. */
export function runCli(cwd: string, args: string[], stdin = ""): { code: number; out: string; err: string } {
  const p = Bun.spawnSync([process.execPath, "--no-env-file", MAIN, ...args], {
    cwd,
    stdin: new TextEncoder().encode(stdin),
    env: { ...process.env, AUTOSENTRY_DEBUG: "" },
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
