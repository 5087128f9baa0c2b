import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLock, LockHeldError, lockMechanism, readLock } from "./lock.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "as-lock-"));
  dirs.push(d);
  return d;
}

const BUN = process.execPath;
const LOCK_TS = path.join(import.meta.dir, "lock.ts");

/** A process that takes the lock: prints "won" and holds it until killed, or prints "held" and exits. */
function contender(file: string, env: Record<string, string> = {}) {
  const src = `
    const { acquireLock, LockHeldError } = await import(${JSON.stringify(LOCK_TS)});
    try { acquireLock(${JSON.stringify(file)}); } catch (e) {
      if (e instanceof LockHeldError) { console.log("held"); process.exit(0); }
      console.log("error " + e.message); process.exit(1);
    }
    console.log("won");
    setInterval(() => {}, 1000);
  `;
  const p = Bun.spawn([BUN, "-e", src], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, ...env },
  });
  const reader = p.stdout.getReader();
  const first = (async () => {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    return text.trim();
  })();
  return { proc: p, first };
}

async function race(n: number, env: Record<string, string> = {}): Promise<void> {
  const file = path.join(scratch(), "monitor.lock");
  // Stale record of a dead owner, the state a SIGKILLed monitor leaves behind.
  fs.writeFileSync(
    file,
    `${JSON.stringify({ pid: 2 ** 22 + 7, proc_start: "1", started_at: "x", host: os.hostname() })}\n`,
  );
  const cs = Array.from({ length: n }, () => contender(file, env));
  const answers = await Promise.all(cs.map((c) => c.first));
  try {
    expect(answers.filter((a) => a === "won")).toHaveLength(1);
    expect(answers.filter((a) => a === "held")).toHaveLength(n - 1);
    const winner = cs[answers.indexOf("won")]!;
    expect(readLock(file)?.pid).toBe(winner.proc.pid);
    // The kernel drops the lock with its holder, even on SIGKILL: the next one wins.
    winner.proc.kill("SIGKILL");
    await winner.proc.exited;
    const next = contender(file, env);
    expect(await next.first).toBe("won");
    next.proc.kill("SIGKILL");
    await next.proc.exited;
  } finally {
    for (const c of cs) c.proc.kill("SIGKILL");
  }
}

test("flock is the mechanism here (libc loads through bun:ffi)", () => {
  expect(lockMechanism()).toBe("flock");
});

test("racing contenders over a stale lock: exactly one wins, the lock dies with it", async () => {
  for (let round = 0; round < 5; round++) await race(8);
}, 60_000);

test("the link-based fallback: exactly one of the racers wins", async () => {
  for (let round = 0; round < 5; round++) await race(8, { AUTOSENTRY_LOCK_FALLBACK: "link" });
}, 60_000);

test("a second acquisition while held fails and names the owner; release frees it", () => {
  const file = path.join(scratch(), "monitor.lock");
  const held = acquireLock(file);
  // A second open file description in the same process conflicts with the first one.
  let err: unknown;
  try {
    acquireLock(file);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LockHeldError);
  expect((err as LockHeldError).owner?.pid).toBe(process.pid);
  held.release();
  expect(readLock(file)).toBeNull();
  acquireLock(file).release();
});

test("a symlink at the lock path is refused, not followed", () => {
  const d = scratch();
  const target = path.join(d, "elsewhere");
  fs.symlinkSync(target, path.join(d, "monitor.lock"));
  expect(() => acquireLock(path.join(d, "monitor.lock"))).toThrow();
  expect(fs.existsSync(target)).toBe(false);
});
