import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ChildExit, Stream } from "../../core/types.ts";
import { MemoryLogger } from "../../util/logger.ts";
import { pidAlive } from "../../util/proc.ts";
import type { LaunchSpec, SupervisorSink } from "../types.ts";
import { AttachSupervisor, type AttachSupervisorOptions, readPidFile } from "./attach.ts";

class TestSink implements SupervisorSink {
  lines: { text: string; stream: Stream; generation: number }[] = [];
  exits: ChildExit[] = [];
  line(text: string, stream: Stream, generation: number): void {
    this.lines.push({ text, stream, generation });
  }
  exit(exit: ChildExit): void {
    this.exits.push(exit);
  }
  texts(): string[] {
    return this.lines.map((l) => l.text);
  }
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met in time`);
    await Bun.sleep(20);
  }
}

let dir: string;
/** Process groups started by a test, killed afterwards by pgid. */
let groups: number[];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "attach-sup-"));
  groups = [];
});
afterEach(() => {
  for (const g of groups) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {}
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A service in its own session that appends `tick N` to svc.log and writes its pid to svc.pid. */
function service(name = "svc"): number {
  const p = Bun.spawn(
    [
      "sh",
      "-c",
      `echo $$ > ${name}.pid; i=0; while :; do i=$((i+1)); echo "tick $i" >> svc.log; sleep 0.05; done`,
    ],
    { cwd: dir, stdin: "ignore", stdout: "ignore", stderr: "ignore", detached: true },
  );
  groups.push(p.pid);
  p.unref();
  return p.pid;
}

function make(over: Partial<AttachSupervisorOptions> = {}) {
  const sink = new TestSink();
  const logger = new MemoryLogger();
  const sup = new AttachSupervisor({
    sink,
    logger,
    maxLineLength: 1000,
    allowKill: false,
    logPath: path.join(dir, "svc.log"),
    pollMs: 50,
    replaceGraceMs: 500,
    ...over,
  });
  return { sup, sink, logger };
}

const spec = (generation = 1): LaunchSpec => ({ generation, argv: [], cwd: dir, env: {}, envOverrides: {} });

describe("attach", () => {
  test("follows the log from its end, and an ended process is 'unknown', never success", async () => {
    const pid = service();
    await waitFor(() => fs.existsSync(path.join(dir, "svc.log")), "log");
    await Bun.sleep(200);
    const before = fs.readFileSync(path.join(dir, "svc.log"), "utf8").split("\n").length;
    const { sup, sink } = make({ pid });
    const rec = await sup.start(spec());
    expect(rec).toMatchObject({ kind: "attach", pid, logPath: path.join(dir, "svc.log") });
    await waitFor(() => sink.lines.length >= 3, "new lines");
    const first = Number(sink.lines[0]!.text.split(" ")[1]);
    expect(first).toBeGreaterThanOrEqual(before - 1);
    expect(sink.lines.every((l) => l.stream === "log" && l.generation === 1)).toBe(true);
    process.kill(-pid, "SIGKILL");
    await waitFor(() => sink.exits.length === 1, "exit");
    expect(sink.exits[0]).toMatchObject({ exitClass: "unknown", code: null, generation: 1 });
    expect(sup.running()).toBe(false);
  });

  test("a zombie (exited, not reaped) is dead, although kill -0 still succeeds on it", async () => {
    // The background sleep's parent exec()s a long sleep that never reaps it: a lasting zombie.
    const p = Bun.spawn(["sh", "-c", "sleep 0.3 & echo $! > z.pid; exec sleep 30"], {
      cwd: dir,
      stdin: "ignore",
      stdout: "ignore",
      detached: true,
    });
    groups.push(p.pid);
    await waitFor(
      () => fs.existsSync(path.join(dir, "z.pid")) && readPidFile(path.join(dir, "z.pid")).pid !== null,
      "pid",
    );
    const zpid = readPidFile(path.join(dir, "z.pid")).pid!;
    const { sup, sink } = make({ pid: zpid, logPath: undefined });
    await sup.start(spec());
    await waitFor(() => sink.exits.length === 1, "exit");
    expect(() => process.kill(zpid, 0)).not.toThrow();
    expect(pidAlive(zpid)).toBe(false);
    expect(sink.exits[0]!.exitClass).toBe("unknown");
  });

  test("the pid file is read again: a replaced process is followed as the same launch", async () => {
    const first = service();
    await waitFor(() => readPidFile(path.join(dir, "svc.pid")).pid === first, "pid file");
    const { sup, sink, logger } = make({ pidFile: path.join(dir, "svc.pid") });
    await sup.start(spec());
    process.kill(-first, "SIGKILL");
    const second = service();
    await waitFor(() => sup.record()?.pid === second, "the new pid");
    expect(sink.exits).toHaveLength(0);
    expect(logger.lines.join("\n")).toContain(`now names pid ${second} (was ${first}`);
    const n = sink.lines.length;
    await waitFor(() => sink.lines.length > n + 3, "lines of the new process");
    process.kill(-second, "SIGKILL");
    await waitFor(() => sink.exits.length === 1, "exit after the grace");
  });

  test("log rotation (by inode) and truncation are followed", async () => {
    const log = path.join(dir, "app.log");
    fs.writeFileSync(log, "old\n");
    const pid = service();
    const { sup, sink } = make({ pid, logPath: log });
    await sup.start(spec());
    fs.appendFileSync(log, "a1\na2\n");
    await waitFor(() => sink.texts().includes("a2"), "a2");
    fs.renameSync(log, `${log}.1`);
    fs.appendFileSync(`${log}.1`, "a3 written before the new file\n");
    fs.writeFileSync(log, "b1\n");
    await waitFor(() => sink.texts().includes("b1"), "b1");
    fs.truncateSync(log, 0);
    await Bun.sleep(100);
    fs.appendFileSync(log, "c1\n");
    await waitFor(() => sink.texts().includes("c1"), "c1");
    expect(sink.texts()).toEqual(["a1", "a2", "a3 written before the new file", "b1", "c1"]);
    await sup.stop("shutdown", 1);
  });

  test("restart is not a capability; pause, shutdown and abort without allow_kill never touch it", async () => {
    const pid = service();
    for (const reason of ["pause", "shutdown", "abort"] as const) {
      const { sup, sink, logger } = make({ pid });
      expect(sup.capabilities.restart).toBe(false);
      await sup.start(spec());
      await sup.stop(reason, 0.2);
      expect(sink.exits).toHaveLength(1);
      expect(sink.exits[0]!.exitClass).toBe("stopped");
      expect(sink.exits[0]!.detail).toContain(`pid ${pid}`);
      expect(logger.lines.join("\n")).toContain("stopped watching it");
      expect(pidAlive(pid)).toBe(true);
    }
  });

  test("abort with allow_kill: SIGTERM to the process group, then SIGKILL after the grace", async () => {
    const p = Bun.spawn(["sh", "-c", "trap '' TERM; touch ready; sleep 30 & wait; sleep 30"], {
      cwd: dir,
      stdin: "ignore",
      stdout: "ignore",
      detached: true,
    });
    groups.push(p.pid);
    await waitFor(() => fs.existsSync(path.join(dir, "ready")), "the TERM trap");
    const { sup, sink } = make({ pid: p.pid, allowKill: true, logPath: undefined });
    await sup.start(spec());
    await sup.stop("abort", 0.3);
    await p.exited;
    expect(p.signalCode).toBe("SIGKILL");
    expect(sink.exits[0]).toMatchObject({ exitClass: "stopped" });
    expect(sink.exits[0]!.detail).toContain("was killed (allow_kill)");
  });

  test("adopt continues the log where the last monitor stopped reading, also across a rotation", async () => {
    const log = path.join(dir, "app.log");
    fs.writeFileSync(log, "");
    const pid = service();
    const a = make({ pid, logPath: log });
    await a.sup.start(spec(3));
    fs.appendFileSync(log, "one\ntwo\n");
    await waitFor(() => a.sink.texts().includes("two"), "two");
    const rec = a.sup.record()!;
    await a.sup.detach();
    expect(pidAlive(pid)).toBe(true);
    fs.appendFileSync(log, "three (while no monitor watched)\n");
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, "four\n");

    const b = make({ pid, logPath: log });
    expect(await b.sup.adopt(rec)).toBe(true);
    await waitFor(() => b.sink.texts().includes("four"), "four");
    expect(b.sink.texts()).toEqual(["three (while no monitor watched)", "four"]);
    expect(b.sink.lines.every((l) => l.generation === 3)).toBe(true);
    await b.sup.stop("shutdown", 0);
    expect(pidAlive(pid)).toBe(true);

    process.kill(-pid, "SIGKILL");
    await waitFor(() => !pidAlive(pid), "dead");
    expect(await make({ pid, logPath: log }).sup.adopt(rec)).toBe(false);
  });

  test("start fails with the reason: no pid configured, dead pid, bad pid file", async () => {
    await expect(make({ logPath: undefined }).sup.start(spec())).rejects.toThrow(
      "Cannot attach: set process.extra.pid or process.extra.pid_file",
    );
    await expect(make({ pid: 999_999_999 }).sup.start(spec())).rejects.toThrow(
      "pid 999999999 is not running",
    );
    const pf = path.join(dir, "bad.pid");
    fs.writeFileSync(pf, "not-a-pid\n");
    await expect(make({ pidFile: pf }).sup.start(spec())).rejects.toThrow(`${pf} does not start with a pid`);
    await expect(make({ pidFile: path.join(dir, "none.pid") }).sup.start(spec())).rejects.toThrow(
      "does not exist",
    );
  });
});
