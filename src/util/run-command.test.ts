import { expect, test } from "bun:test";
import * as os from "node:os";
import { pidAlive } from "./proc.ts";
import { runCommand, truncationMarker } from "./run-command.ts";

const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };
const base = { cwd: os.tmpdir(), env, timeoutMs: 20_000 };

test("exit code, separate streams and interleaved output in arrival order", async () => {
  const r = await runCommand(
    ["sh", "-c", "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; exit 3"],
    base,
  );
  expect(r.exitCode).toBe(3);
  expect(r.signal).toBeNull();
  expect(r.timedOut).toBe(false);
  expect(r.stdout).toBe("one\nthree\n");
  expect(r.stderr).toBe("two\n");
  expect(r.output).toBe("one\ntwo\nthree\n");
  expect(r.error).toBeUndefined();
  expect(r.leftovers).toBe(0);
});

test("input goes to stdin; env and cwd are the given ones", async () => {
  const r = await runCommand(["sh", "-c", 'cat; echo "[$FOO]"; pwd; test -z "$HOME" && echo home-unset'], {
    ...base,
    cwd: "/",
    env: { ...env, FOO: "bar" },
    input: "hello\n",
  });
  expect(r.stdout).toBe("hello\n[bar]\n/\nhome-unset\n");
});

test("a timeout kills the whole group, grandchildren included", async () => {
  const r = await runCommand(["sh", "-c", "sleep 1000 & sleep 1000 & echo started; wait"], {
    ...base,
    timeoutMs: 300,
  });
  expect(r.timedOut).toBe(true);
  expect(r.signal).toBe("SIGTERM");
  expect(r.exitCode).toBeNull();
  expect(r.output).toBe("started\n");
});

test("a command ignoring SIGTERM is SIGKILLed after the grace", async () => {
  const r = await runCommand(["sh", "-c", "trap '' TERM; sleep 1000 & wait"], {
    ...base,
    timeoutMs: 200,
    killGraceMs: 200,
  });
  expect(r.timedOut).toBe(true);
  expect(r.signal).toBe("SIGKILL");
});

test("background processes left in the group are killed once the command exits", async () => {
  const r = await runCommand(["sh", "-c", "sleep 1000 & echo $!; echo done"], base);
  expect(r.exitCode).toBe(0);
  expect(r.leftovers).toBe(1);
  const sleeper = Number(r.stdout.split("\n")[0]);
  expect(sleeper).toBeGreaterThan(1);
  expect(pidAlive(sleeper)).toBe(false);
  expect(r.stdout.endsWith("done\n")).toBe(true);
});

test("keepBackground leaves them running and still returns", async () => {
  const r = await runCommand(["sh", "-c", "sleep 1000 & echo $!"], { ...base, keepBackground: true });
  const sleeper = Number(r.stdout.trim());
  try {
    expect(r.exitCode).toBe(0);
    expect(r.leftovers).toBe(1);
    expect(pidAlive(sleeper)).toBe(true);
  } finally {
    process.kill(sleeper, "SIGKILL");
  }
});

test("output beyond the bound is dropped with a marker, and the command is not blocked", async () => {
  const r = await runCommand(["sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x; echo end >&2"], {
    ...base,
    maxOutputBytes: 1000,
  });
  expect(r.exitCode).toBe(0);
  expect(r.output).toBe("x".repeat(1000) + truncationMarker(5_000_004 - 1000));
  expect(r.stdout).toBe("x".repeat(1000) + truncationMarker(5_000_000 - 1000));
  expect(r.stderr).toBe(truncationMarker(4));
});

test("a missing executable or working directory is reported, not thrown", async () => {
  const a = await runCommand(["no-such-program-xyz"], base);
  expect(a.exitCode).toBeNull();
  expect(a.error).toContain("Cannot run no-such-program-xyz:");
  expect(a.error).toContain("not found");
  const b = await runCommand(["sh", "-c", "true"], { ...base, cwd: "/no/such/dir" });
  expect(b.error).toBe("Cannot run sh: working directory not found: /no/such/dir");
  const c = await runCommand([], base);
  expect(c.error).toBe("Cannot run (empty command): empty command");
});
