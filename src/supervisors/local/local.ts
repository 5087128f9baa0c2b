/**
 * @module
 * The local supervisor: runs the command on this machine behind the capture shim (shim.ts).
 *
 * `start` spawns `autosentry __shim …` in a new session with the child's cwd and environment; the shim
 * leads the process group and starts the child in it. Lines arrive as frames on the shim's stdout
 * (protocol.ts) and go to the sink; the shim's `X` frame (or its exit file) gives the exit. `stop`
 * signals the whole group, spares the shim so it can record the exit, and verifies that nothing of
 * the group survives. `adopt` finds a shim started by an earlier monitor through the pid and /proc
 * start time in the record, follows process.log from the recorded offset and polls the shim (it is
 * not our child, so there is nothing to wait() on); when it is gone, the exit file tells how the
 * child ended. Without an exit file the exit is `unknown`, never `success`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ChildExit, ExitClass } from "../../core/types.ts";
import { LINE_CUT_MARKER, LineSplitter } from "../../util/lines.ts";
import type { Logger } from "../../util/logger.ts";
import {
  groupMembers,
  killGroupGracefully,
  pidAlive,
  procStartTime,
  readProcStat,
  signalGroup,
  signalNumber,
} from "../../util/proc.ts";
import { appendNoFollow } from "../../util/safe-open.ts";
import { selfImageCommand } from "../../util/self-command.ts";
import { type Follower, followFile } from "../../util/tail.ts";
import type { ChildRecord, LaunchSpec, StopReason, Supervisor, SupervisorSink } from "../types.ts";
import {
  isBanner,
  parseShimExit,
  type ShimExit,
  shimArgs,
  stopBanner,
  TAG_DROPPED,
  TAG_EXIT,
  TAG_FAIL,
  TAG_OFFSET,
  TAG_PID,
  TAG_STDERR,
  TAG_STDOUT,
  TAG_WARN,
} from "./protocol.ts";

export interface LocalSupervisorOptions {
  sink: SupervisorSink;
  /** Directory of process.log (and its rotated copies). */
  logDir: string;
  /** Directory for exit files and the shim's own stderr (`shim.log`), e.g. `<root>/.autosentry/run`. */
  runDir: string;
  maxLineLength: number;
  processLogMaxBytes: number;
  processLogBackups: number;
  logger: Logger;
  /** How to run autosentry itself (default {@link selfImageCommand}: this process's own image). */
  selfCommand?: string[];
  /** How often an adopted shim is checked for liveness (default 500 ms). */
  adoptPollMs?: number;
}

/** After the group is gone, how long the shim may take to record the exit before it is killed. */
const SHIM_EXIT_WAIT_MS = 3000;
/** The shim must report the child's start within this time. */
const START_TIMEOUT_MS = 30_000;

/** One launch (or adoption) of the child. */
interface Generation {
  generation: number;
  mode: "pipe" | "follow";
  argv0: string;
  shimPid: number;
  shimStart: string | null;
  childPid: number | null;
  exitFile: string;
  logPath: string;
  logIno: number;
  logOffset: number;
  startedAt: number;
  proc: Bun.Subprocess | null;
  reader: { cancel(): Promise<void> } | null;
  follower: Follower | null;
  poll: ReturnType<typeof setInterval> | null;
  checking: boolean;
  /** From the `X` frame. */
  shimExit: ShimExit | null;
  /** From an `F` frame: why the child could not start. */
  failure: string | null;
  stopRequestedAt: number | null;
  detached: boolean;
  delivered: boolean;
  exited: Promise<void>;
  resolveExited: () => void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Read an exit file written by the shim; null when it is missing or is not one. */
export function readExitFile(file: string): ShimExit | null {
  try {
    return parseShimExit(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/** The text after the last line terminator of `file`'s final bytes (its last complete line). */
function lastLine(file: string): string | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, 512);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    const text = buf.toString("utf8").replace(/\n$/, "");
    return text.slice(text.lastIndexOf("\n") + 1);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

type GenerationIdentity = Pick<
  Generation,
  | "generation"
  | "mode"
  | "argv0"
  | "shimPid"
  | "shimStart"
  | "childPid"
  | "exitFile"
  | "logPath"
  | "logIno"
  | "logOffset"
  | "startedAt"
  | "proc"
>;

/** A generation's record: its identity plus fresh run-time bookkeeping (launched or adopted alike). */
function newGeneration(id: GenerationIdentity): Generation {
  let resolveExited!: () => void;
  const exited = new Promise<void>((r) => {
    resolveExited = r;
  });
  return {
    ...id,
    reader: null,
    follower: null,
    poll: null,
    checking: false,
    shimExit: null,
    failure: null,
    stopRequestedAt: null,
    detached: false,
    delivered: false,
    exited,
    resolveExited,
  };
}

export class LocalSupervisor implements Supervisor {
  readonly kind = "local" as const;
  readonly capabilities = { restart: true, stop: true };
  private cur: Generation | null = null;
  private readonly self: string[];

  constructor(private readonly opts: LocalSupervisorOptions) {
    this.self = opts.selfCommand ?? selfImageCommand();
  }

  private get logPath(): string {
    return path.resolve(this.opts.logDir, "process.log");
  }

  async start(spec: LaunchSpec): Promise<ChildRecord> {
    const { logger } = this.opts;
    if (this.running()) {
      throw new Error(
        `Cannot start generation ${spec.generation}: generation ${this.cur!.generation} is running`,
      );
    }
    const argv0 = spec.argv[0];
    if (argv0 === undefined || argv0 === "") throw new Error("Cannot start child: the command is empty");
    let cwdOk = false;
    try {
      cwdOk = fs.statSync(spec.cwd).isDirectory();
    } catch {}
    if (!cwdOk) throw new Error(`Cannot start ${argv0}: working directory not found: ${spec.cwd}`);

    const runDir = path.resolve(this.opts.runDir);
    fs.mkdirSync(runDir, { recursive: true });
    fs.mkdirSync(path.dirname(this.logPath), { recursive: true });
    const exitFile = path.join(runDir, `exit-${spec.generation}.json`);
    fs.rmSync(exitFile, { force: true });
    const cmd = [
      ...this.self,
      "__shim",
      ...shimArgs({
        generation: spec.generation,
        logPath: this.logPath,
        exitFile,
        maxLineLength: this.opts.maxLineLength,
        logMaxBytes: this.opts.processLogMaxBytes,
        logBackups: this.opts.processLogBackups,
        argv: spec.argv,
      }),
    ];

    const shimLog = path.join(runDir, "shim.log");
    const errFd = fs.openSync(shimLog, "a");
    let proc: Bun.Subprocess<"ignore", "pipe", number>;
    try {
      proc = Bun.spawn(cmd, {
        cwd: spec.cwd,
        env: spec.env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: errFd,
        detached: true,
        // The shim may be exec'd through /proc/<pid>/exe (see selfImageCommand); show the real name.
        argv0: this.self[0] === process.execPath ? undefined : process.execPath,
      });
    } catch (err) {
      throw new Error(
        `Cannot start ${argv0}: cannot run the capture shim (${this.self[0]}): ${message(err)}`,
      );
    } finally {
      fs.closeSync(errFd);
    }

    const g = newGeneration({
      generation: spec.generation,
      mode: "pipe",
      argv0,
      shimPid: proc.pid,
      shimStart: procStartTime(proc.pid),
      childPid: null,
      exitFile,
      logPath: this.logPath,
      logIno: 0,
      logOffset: 0,
      startedAt: Date.now(),
      proc,
    });
    this.cur = g;

    let started!: () => void;
    const startedP = new Promise<void>((r) => {
      started = r;
    });
    const pumped = this.pump(g, proc.stdout, started);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      startedP.then(() => "started" as const),
      pumped.then(() => "ended" as const),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), START_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === "started") {
      logger.info(
        `Started generation ${g.generation}: ${spec.argv.join(" ")} (pid ${g.childPid}, capture shim pid ${g.shimPid})`,
      );
      return this.record()!;
    }
    this.cur = null;
    if (outcome === "timeout") {
      await killGroupGracefully(g.shimPid, 1000);
      throw new Error(`Cannot start ${argv0}: the capture shim did not report a start within 30 s`);
    }
    await proc.exited;
    if (g.failure !== null) throw new Error(`Cannot start ${argv0}: ${g.failure}`);
    let tail = "";
    try {
      tail = fs.readFileSync(shimLog, "utf8").trim().split("\n").slice(-3).join(" | ");
    } catch {}
    throw new Error(
      `Cannot start ${argv0}: the capture shim exited with code ${proc.exitCode ?? proc.signalCode}` +
        (tail ? ` (${shimLog}: ${tail})` : ""),
    );
  }

  /** Read frames until the shim's stdout closes, then deliver the exit. */
  private async pump(g: Generation, stream: ReadableStream<Uint8Array>, started: () => void): Promise<void> {
    const { sink, logger } = this.opts;
    const gen = g.generation;
    const reader = stream.getReader();
    g.reader = reader;
    const decoder = new TextDecoder("utf-8");
    // Frames are bounded by the shim; the bound here only guards against a misbehaving shim.
    const splitter = new LineSplitter(Math.max(this.opts.maxLineLength, 4096) + 1 + LINE_CUT_MARKER.length);
    const onFrame = (f: string): void => {
      try {
        switch (f.charCodeAt(0)) {
          case TAG_STDOUT:
            sink.line(f.slice(1), "stdout", gen);
            break;
          case TAG_STDERR:
            sink.line(f.slice(1), "stderr", gen);
            break;
          case TAG_OFFSET: {
            const colon = f.indexOf(":");
            g.logIno = Number(f.slice(1, colon));
            g.logOffset = Number(f.slice(colon + 1));
            break;
          }
          case TAG_PID:
            g.childPid = Number(f.slice(1));
            started();
            break;
          case TAG_EXIT:
            g.shimExit = parseShimExit(f.slice(1));
            break;
          case TAG_FAIL:
            g.failure = f.slice(1);
            break;
          case TAG_DROPPED:
            logger.warn(
              `${f.slice(1)} lines of generation ${gen} were not forwarded (the monitor fell behind); process.log has them`,
            );
            break;
          case TAG_WARN:
            logger.warn(`capture shim (generation ${gen}): ${f.slice(1)}`);
            break;
        }
      } catch (err) {
        logger.error(`Supervisor sink failed on a line of generation ${gen}: ${message(err)}`);
      }
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        splitter.push(decoder.decode(value, { stream: true }), onFrame);
      }
    } catch {
      // Cancelled by detach().
    }
    if (g.detached) return;
    splitter.push(decoder.decode(), onFrame);
    splitter.end(onFrame);
    await g.proc!.exited;
    if (g.childPid === null || g.detached) return;
    let exit = g.shimExit ?? readExitFile(g.exitFile);
    if (exit !== null && exit.generation !== gen) exit = null;
    let detail: string | undefined;
    if (g.shimExit === null) {
      detail =
        exit === null
          ? `capture shim ended (${g.proc!.signalCode ?? `code ${g.proc!.exitCode}`}) without recording the exit`
          : "capture shim ended after writing the exit file";
      // A signal sent to the whole group (`kill -KILL -PGID`, the OOM killer's cgroup kill) ends
      // the shim and the child together: the shim died of it and nobody of the group is left, so
      // the child died of the same signal. Reported as that signal, not as exit "unknown"
      // (issue 16, finding 11).
      const sig = typeof g.proc!.signalCode === "string" ? g.proc!.signalCode : null;
      if (exit === null && sig && g.childPid !== null && (await this.groupEmptiesSoon(g))) {
        exit = { generation: gen, pid: g.childPid, code: null, signal: sig, at: Date.now(), leftovers: 0 };
        detail = `capture shim and child ended by ${sig} together (a signal to the whole process group)`;
      }
      await this.cleanUpAfterShim(g, exit);
    }
    this.deliver(g, exit, detail);
  }

  /** The shim is gone without its last words: finish the log and make sure its group is gone. */
  private async cleanUpAfterShim(g: Generation, exit: ShimExit | null): Promise<void> {
    const last = lastLine(g.logPath);
    if (last === null || !(isBanner(last) && last.includes(": stop "))) {
      const code = exit === null ? null : (exit.code ?? 128 + (signalNumber(exit.signal ?? "") ?? 0));
      try {
        appendNoFollow(g.logPath, `${stopBanner(Date.now(), code)}\n`);
      } catch {}
    }
    if (this.groupIsOurs(g) && groupMembers(g.shimPid).length > 0) {
      this.opts.logger.warn(
        `Capture shim of generation ${g.generation} is gone but its process group ${g.shimPid} is not; killing it`,
      );
      const res = await killGroupGracefully(g.shimPid, 2000);
      if (res.survivors.length > 0) {
        this.opts.logger.error(
          `Processes survived SIGKILL in group ${g.shimPid}: ${res.survivors.join(", ")}`,
        );
      }
    }
  }

  private deliver(g: Generation, exit: ShimExit | null, detail?: string): void {
    if (g.delivered) return;
    g.delivered = true;
    const { logger, sink } = this.opts;
    let result: ChildExit;
    if (exit !== null) {
      const signal = exit.signal;
      const code = exit.code ?? (signal !== null ? 128 + (signalNumber(signal) ?? 0) : null);
      let exitClass: ExitClass;
      if (g.stopRequestedAt !== null && exit.at >= g.stopRequestedAt) exitClass = "stopped";
      else if (signal !== null) exitClass = "signal";
      else exitClass = code === 0 ? "success" : "failure";
      result = { code, signal, exitClass, at: exit.at, generation: g.generation };
      if (exit.leftovers > 0) {
        logger.warn(
          `Generation ${g.generation} left ${exit.leftovers} process(es) in its group after exiting; they were killed`,
        );
      }
    } else {
      result = {
        code: null,
        signal: null,
        exitClass: g.stopRequestedAt !== null ? "stopped" : "unknown",
        at: Date.now(),
        generation: g.generation,
      };
    }
    if (detail !== undefined) result.detail = detail;
    try {
      fs.rmSync(g.exitFile, { force: true });
    } catch {}
    try {
      sink.exit(result);
    } catch (err) {
      logger.error(`Supervisor sink failed on the exit of generation ${g.generation}: ${message(err)}`);
    }
    g.resolveExited();
  }

  /** The shim is alive and is the process we recorded (not a reused pid). */
  private shimAlive(g: Generation): boolean {
    return pidAlive(g.shimPid) && (g.shimStart === null || procStartTime(g.shimPid) === g.shimStart);
  }

  /**
   * Whether group `shimPid` is still ours. A live process at that pid with another start time means
   * the pid was reused, which the kernel only allows once our group had no member left.
   */
  /** True when the generation's group is (or within half a second becomes) empty: dying takes a moment. */
  private async groupEmptiesSoon(g: Generation): Promise<boolean> {
    for (let i = 0; i < 10; i++) {
      if (!this.groupIsOurs(g)) return false;
      if (groupMembers(g.shimPid).length === 0) return true;
      await Bun.sleep(50);
    }
    return false;
  }

  /**
   * Capture shims of this project (their `--exit-file` is in our run directory) that `keep` does
   * not name are orphans of a monitor killed mid-launch: their whole group is stopped, so the job
   * never runs twice (issue 16, chaos: SIGKILL loop). Returns the shim pids stopped.
   */
  async reapOrphans(keep: ChildRecord | null): Promise<number[]> {
    const runDir = path.resolve(this.opts.runDir) + path.sep;
    const keepPid = keep?.pgid ?? null;
    const orphans: number[] = [];
    let names: string[] = [];
    try {
      names = fs.readdirSync("/proc");
    } catch {
      return orphans;
    }
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      if (pid === keepPid || pid === process.pid) continue;
      let argv: string[];
      try {
        argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      } catch {
        continue;
      }
      const i = argv.indexOf("--exit-file");
      if (!argv.includes("__shim") || i < 0 || !(argv[i + 1] ?? "").startsWith(runDir)) continue;
      const st = readProcStat(pid);
      if (st === null || st.state === "Z" || st.pgrp !== pid) continue;
      orphans.push(pid);
    }
    for (const pid of orphans) {
      this.opts.logger.warn(
        `Stopping process group ${pid}: a generation a previous monitor launched but never recorded (it was killed mid-launch)`,
      );
      const res = await killGroupGracefully(pid, 2000);
      if (res.survivors.length > 0)
        this.opts.logger.error(`Processes survived SIGKILL in group ${pid}: ${res.survivors.join(", ")}`);
    }
    return orphans;
  }

  private groupIsOurs(g: Generation): boolean {
    const st = readProcStat(g.shimPid);
    if (st === null || st.state === "Z" || st.state === "X") return true;
    return g.shimStart === null || st.startTime === g.shimStart;
  }

  async stop(reason: StopReason, graceSeconds: number): Promise<void> {
    const g = this.cur;
    if (g === null || g.delivered || g.detached) return;
    const { logger } = this.opts;
    if (g.stopRequestedAt === null) g.stopRequestedAt = Date.now();
    logger.info(
      `Stopping generation ${g.generation} (${reason}): SIGTERM to process group ${g.shimPid}, grace ${graceSeconds}s`,
    );
    if (this.groupIsOurs(g)) {
      const res = await killGroupGracefully(g.shimPid, Math.max(0, graceSeconds) * 1000, {
        spare: g.shimPid,
      });
      if (res.forced)
        logger.warn(`Generation ${g.generation} did not stop within ${graceSeconds}s; sent SIGKILL`);
      if (res.survivors.length > 0) {
        logger.error(`Processes survived SIGKILL in group ${g.shimPid}: ${res.survivors.join(", ")}`);
      }
    }
    // The shim drains the last output, records the exit and leaves; kill it if it does not.
    if (!(await within(g.exited, SHIM_EXIT_WAIT_MS))) {
      if (this.shimAlive(g)) {
        logger.warn(`Capture shim ${g.shimPid} did not exit after its child; sending SIGKILL`);
        try {
          process.kill(g.shimPid, "SIGKILL");
        } catch {}
      }
      // Bounded: a generation whose launch failed (stopped mid-launch by a SIGTERM) never gets
      // its reader going, so `exited` may never resolve; the monitor hung there (issue 16 chaos).
      if (!(await within(g.exited, SHIM_EXIT_WAIT_MS)) && this.shimAlive(g))
        logger.error(`Capture shim ${g.shimPid} survived SIGKILL`);
    }
    if (this.groupIsOurs(g) && groupMembers(g.shimPid).length > 0) {
      signalGroup(g.shimPid, "SIGKILL");
      const end = Date.now() + 5000;
      while (groupMembers(g.shimPid).length > 0 && Date.now() < end) await Bun.sleep(50);
      const left = groupMembers(g.shimPid);
      if (left.length > 0)
        logger.error(`Processes survived SIGKILL in group ${g.shimPid}: ${left.join(", ")}`);
    }
  }

  async adopt(record: ChildRecord): Promise<boolean> {
    const { logger } = this.opts;
    if (record.kind !== "local") return false;
    if (this.running()) throw new Error(`Cannot adopt generation ${record.generation}: a child is running`);
    const d = record.details;
    const shimPid = typeof d["shimPid"] === "number" ? d["shimPid"] : (record.pgid ?? 0);
    const shimStart = typeof d["shimStart"] === "string" ? d["shimStart"] : null;
    const exitFile = typeof d["exitFile"] === "string" ? d["exitFile"] : null;
    if (shimPid <= 1 || shimStart === null || exitFile === null) {
      logger.warn(
        `Cannot adopt generation ${record.generation}: the record lacks the capture shim's identity`,
      );
      return false;
    }
    const g = newGeneration({
      generation: record.generation,
      mode: "follow",
      argv0: "",
      shimPid,
      shimStart,
      childPid: record.pid,
      exitFile,
      logPath: record.logPath ?? this.logPath,
      logIno: typeof d["logIno"] === "number" ? d["logIno"] : 0,
      logOffset: record.logOffset,
      startedAt: record.startedAt,
      proc: null,
    });
    const shimGone = !this.shimAlive(g);
    if (shimGone) {
      // The shim is gone. If it was killed, its child may still run unobserved: do not leave it.
      if (this.groupIsOurs(g) && groupMembers(shimPid).length > 0) {
        logger.warn(
          `Generation ${g.generation}: capture shim ${shimPid} is gone but its group is not; killing it`,
        );
        await killGroupGracefully(shimPid, 2000);
        return false;
      }
      // The child ended while no monitor watched (issue 16, finding 4): its exit file and the
      // unread tail of process.log say how. Adopt it anyway: the tail goes to the detectors and
      // the exit is delivered (checkAdopted below), so the failure is handled as it would have
      // been, instead of a silent fresh start.
      const exit = readExitFile(exitFile);
      if (exit === null || exit.generation !== record.generation) return false;
      logger.info(
        `Generation ${g.generation} ended while no monitor was watching (${exitFile}); reading its unread output`,
      );
    }
    this.cur = g;
    const { sink } = this.opts;
    const gen = g.generation;
    const onLine = (text: string): void => {
      if (isBanner(text)) return;
      try {
        sink.line(text, "log", gen);
      } catch (err) {
        logger.error(`Supervisor sink failed on a line of generation ${gen}: ${message(err)}`);
      }
    };
    const from = await this.catchUpRotated(g, onLine);
    g.follower = followFile(g.logPath, {
      ...from,
      maxLineLength: this.opts.maxLineLength,
      onLine,
      onError: (err) => logger.warn(`Reading ${g.logPath}: ${err.message}`),
    });
    g.poll = setInterval(() => void this.checkAdopted(g), this.opts.adoptPollMs ?? 500);
    logger.info(
      `Adopted generation ${gen} (pid ${g.childPid}, capture shim pid ${shimPid}); following ${g.logPath}`,
    );
    return true;
  }

  /**
   * When process.log was rotated since the record was written, read the rest of the file the offset
   * refers to and the newer rotated files, and say where to start in the current process.log.
   */
  private async catchUpRotated(
    g: Generation,
    onLine: (text: string) => void,
  ): Promise<{ fromOffset: number; expectIno?: number }> {
    let ino: number | null = null;
    try {
      ino = fs.statSync(g.logPath).ino;
    } catch {}
    if (g.logIno === 0 || ino === g.logIno)
      return { fromOffset: g.logOffset, expectIno: g.logIno || undefined };
    let found = 0;
    for (let i = 1; i <= this.opts.processLogBackups; i++) {
      try {
        if (fs.statSync(`${g.logPath}.${i}`).ino === g.logIno) {
          found = i;
          break;
        }
      } catch {}
    }
    if (found === 0) {
      this.opts.logger.warn(`${g.logPath} was rotated past the recorded offset; some lines were not seen`);
      return { fromOffset: 0 };
    }
    for (let i = found; i >= 1; i--) {
      const f = followFile(`${g.logPath}.${i}`, {
        fromOffset: i === found ? g.logOffset : 0,
        expectIno: i === found ? g.logIno : undefined,
        maxLineLength: this.opts.maxLineLength,
        onLine,
        pollMs: 60_000,
      });
      await f.stop(true);
    }
    return { fromOffset: 0 };
  }

  private async checkAdopted(g: Generation): Promise<void> {
    if (g.checking || g.delivered || g.detached || this.shimAlive(g)) return;
    g.checking = true;
    if (g.poll !== null) clearInterval(g.poll);
    g.poll = null;
    await g.follower?.stop(true);
    let exit = readExitFile(g.exitFile);
    if (exit !== null && exit.generation !== g.generation) exit = null;
    if (g.detached) return;
    if (exit === null) await this.cleanUpAfterShim(g, null);
    this.deliver(g, exit, exit === null ? "exit file missing" : undefined);
  }

  async detach(): Promise<void> {
    const g = this.cur;
    if (g === null || g.delivered || g.detached) return;
    g.detached = true;
    if (g.poll !== null) clearInterval(g.poll);
    g.poll = null;
    if (g.follower !== null) {
      const o = g.follower.offset();
      await g.follower.stop();
      if (o.ino !== 0) g.logIno = o.ino;
      g.logOffset = o.offset;
    }
    if (g.reader !== null) await g.reader.cancel().catch(() => {});
    g.proc?.unref();
    this.opts.logger.info(
      `Detached from generation ${g.generation}; it keeps running (capture shim pid ${g.shimPid}, ${g.logPath})`,
    );
  }

  record(): ChildRecord | null {
    const g = this.cur;
    if (g === null || g.delivered) return null;
    if (g.follower !== null && !g.detached) {
      const o = g.follower.offset();
      if (o.ino !== 0) g.logIno = o.ino;
      g.logOffset = o.offset;
    }
    return {
      kind: "local",
      generation: g.generation,
      pid: g.childPid,
      pgid: g.shimPid,
      startedAt: g.startedAt,
      details: {
        shimPid: g.shimPid,
        shimStart: g.shimStart,
        childPid: g.childPid,
        exitFile: g.exitFile,
        logIno: g.logIno,
      },
      logPath: g.logPath,
      logOffset: g.logOffset,
    };
  }

  running(): boolean {
    const g = this.cur;
    return g !== null && !g.delivered && !g.detached;
  }
}
