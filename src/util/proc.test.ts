import { afterEach, describe, expect, test } from "bun:test";
import {
  groupMembers,
  killGroupGracefully,
  parseProcStat,
  pidAlive,
  procStartTime,
  readProcStat,
  signalGroup,
  signalNumber,
} from "./proc.ts";

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

const groups: number[] = [];
afterEach(() => {
  for (const g of groups.splice(0)) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {}
  }
});

function spawnGroup(script: string) {
  const p = Bun.spawn(["sh", "-c", script], { detached: true, stdout: "pipe", stderr: "inherit" });
  groups.push(p.pid);
  return p;
}

describe("parseProcStat", () => {
  test("command names with spaces and parentheses do not shift the fields", () => {
    const fields = ["S", "10", "20", "30", ...Array.from({ length: 15 }, (_, i) => String(i)), "123456", "0"];
    const st = parseProcStat(42, `42 (a) b (c) ${fields.join(" ")}`);
    expect(st).toEqual({ pid: 42, state: "S", ppid: 10, pgrp: 20, session: 30, startTime: "123456" });
  });
});

describe("liveness", () => {
  test("own process is alive with a stable start time", () => {
    expect(pidAlive(process.pid)).toBe(true);
    const t = procStartTime(process.pid);
    expect(t).toMatch(/^\d+$/);
    expect(procStartTime(process.pid)).toBe(t);
    expect(readProcStat(process.pid)?.pid).toBe(process.pid);
  });

  test("a zombie is dead although kill(pid, 0) still succeeds on it", async () => {
    // `sleep 0` becomes a child of `exec sleep 30`, which never waits for it: a zombie.
    const p = spawnGroup("sleep 0 & echo $!; exec sleep 30");
    const reader = p.stdout.getReader();
    const { value } = await reader.read();
    const zombie = Number(new TextDecoder().decode(value).trim());
    await waitFor(() => readProcStat(zombie)?.state === "Z");
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(pidAlive(zombie)).toBe(false);
    expect(procStartTime(zombie)).toBeNull();
  });

  test("a process that is gone is not alive", async () => {
    const p = Bun.spawn(["true"]);
    await p.exited;
    await waitFor(() => readProcStat(p.pid) === null || readProcStat(p.pid)?.state === "Z");
    expect(pidAlive(p.pid)).toBe(false);
    expect(pidAlive(0)).toBe(false);
    expect(pidAlive(-5)).toBe(false);
  });
});

describe("groups", () => {
  test("signalGroup refuses pgid 0 and 1 and reports an empty group", () => {
    expect(() => signalGroup(1, "SIGTERM")).toThrow(/invalid pgid/);
    expect(() => signalGroup(0, "SIGTERM")).toThrow(/invalid pgid/);
    expect(signalGroup(2 ** 22 + 12345, "SIGCONT")).toBe(false);
  });

  test("graceful kill of a group with background grandchildren leaves nobody", async () => {
    const p = spawnGroup("sleep 1000 & sleep 1000 & wait");
    await waitFor(() => groupMembers(p.pid).length === 3);
    const res = await killGroupGracefully(p.pid, 5000);
    expect(res).toEqual({ forced: false, survivors: [] });
    expect(groupMembers(p.pid)).toEqual([]);
    await p.exited;
    expect(p.signalCode).toBe("SIGTERM");
  });

  test("members that ignore SIGTERM are SIGKILLed after the grace", async () => {
    // An ignored signal stays ignored across fork and exec, so the sleeps ignore SIGTERM too.
    const p = spawnGroup("trap '' TERM; sleep 1000 & sleep 1000 & wait");
    await waitFor(() => groupMembers(p.pid).length === 3);
    const res = await killGroupGracefully(p.pid, 300);
    expect(res).toEqual({ forced: true, survivors: [] });
    expect(groupMembers(p.pid)).toEqual([]);
    await p.exited;
    expect(p.signalCode).toBe("SIGKILL");
  });

  test("the spared member gets SIGTERM but no SIGKILL", async () => {
    // The leader ignores SIGTERM and is spared; its background sleep (also ignoring) is SIGKILLed,
    // after which `wait` returns and the leader exits normally.
    const p = spawnGroup("trap '' TERM; sleep 1000 & wait; exit 7");
    await waitFor(() => groupMembers(p.pid).length === 2);
    const res = await killGroupGracefully(p.pid, 200, { spare: p.pid });
    expect(res).toEqual({ forced: true, survivors: [] });
    expect(await p.exited).toBe(7);
  });

  test("signal numbers", () => {
    expect(signalNumber("SIGKILL")).toBe(9);
    expect(signalNumber("SIGTERM")).toBe(15);
    expect(signalNumber("NOPE")).toBeNull();
  });
});
