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
import { LINE_CUT_MARKER } from "../../util/lines.ts";
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
import { type CaptureImpl, captureFor, describeCapture } from "./capture-impl.ts";
import { FrameReader } from "./frame-reader.ts";
import {
  type GenerationRequest,
  isBanner,
  LINE_TAG_STREAMS,
  parseShimExit,
  SERVE_FLAG,
  type ShimExit,
  serveArgs,
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
  /**
   * Birth time (ms) of the file `logIno` named, 0 when unknown. ext4 reuses inode numbers, so an
   * inode alone may name a newer file after enough rotations (issue 16 finding 6).
   */
  logBirth?: number;
  /** The inode logBirth was read for. */
  logBirthIno?: number;
  logOffset: number;
  startedAt: number;
  proc: Bun.Subprocess | null;
  /** Called on the `P` frame. */
  onStarted?: () => void;
  /** start() has not returned yet: an exit that arrives now waits until it has. */
  starting?: boolean;
  /** The `X` frame that arrived while starting (delivered right after start() returned). */
  earlyExit?: { exit: ShimExit | null };
  /**
   * Set once the shim dropped frames (a flood the monitor could not keep up with): from then on this
   * generation's lines are read from process.log (from the last offset received), frames ignored.
   */
  catchUp?: Promise<void>;
  follower: Follower | null;
  poll: ReturnType<typeof setInterval> | null;
  checking: boolean;
  /** From the `X` frame. */
  shimExit: ShimExit | null;
  /** From an `F` frame: why the child could not start. */
  failure: string | null;
  /** Which capture process runs it (capture-impl.ts), when known; shown in state.json's child record. */
  capture?: "native" | "bun";
  stopRequestedAt: number | null;
  detached: boolean;
  delivered: boolean;
  exited: Promise<void>;
  resolveExited: () => void;
}

/**
 * The serving capture process (`__shim --serve`): started once and kept across generations, so a
 * restart costs a request line instead of a runtime start. It leads the process group every
 * generation runs in.
 */
interface Shim {
  proc: Bun.Subprocess<"pipe", "pipe", number>;
  pid: number;
  start: string | null;
  /** The generation it runs now (frames go to it), or null between generations. */
  gen: Generation | null;
  /** Resolves when its stdout closed and the process is gone. */
  ended: Promise<void>;
  alive: boolean;
  /** Called on an `F` frame: the requested child could not be started. */
  onFail: ((why: string) => void) | null;
  /**
   * Called once when the shim has ended. A launch waits on this rather than on `ended.then(…)`:
   * a reaction added to the run-long `ended` promise per generation stays until the shim ends,
   * with the launch's whole scope (a Timeout, promises, closures): the crash-cycle chaos
   * scenario measured +43 live objects per restart (issue 16).
   */
  onEnded: (() => void) | null;
  reader?: { cancel(): Promise<void> };
  /** The monitor let go of it (detach): its frames are no longer read. */
  detached?: boolean;
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
  | "logBirth"
  | "logBirthIno"
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

/**
 * How to start the capture shim. The compiled binary runs its own image through /proc/self/exe: a
 * running monitor keeps starting the shim it was built with even after `autosentry update` replaced
 * the file on disk (the old inode stays reachable through the running process).
 */

export class LocalSupervisor implements Supervisor {
  readonly kind = "local" as const;
  readonly capabilities = { restart: true, stop: true };
  private cur: Generation | null = null;
  private shim: Shim | null = null;
  /** The capture process's command prefix: given, or chosen at the first start (capture-impl.ts). */
  private self: string[];
  private captureChosen: boolean;
  /** Which capture process this supervisor starts (null until the first start, or when given). */
  capture: CaptureImpl | null = null;

  constructor(private readonly opts: LocalSupervisorOptions) {
    this.self = opts.selfCommand ?? selfImageCommand();
    this.captureChosen = opts.selfCommand !== undefined;
  }

  /** Choose the native helper or the Bun shim once, and say which (and why) in the log. */
  private async chooseCapture(): Promise<void> {
    if (this.captureChosen && this.opts.selfCommand !== undefined) return;
    if (this.captureChosen && this.liveShim() !== null) return;
    const before = this.capture;
    this.captureChosen = true;
    this.capture = await captureFor(this.opts.runDir);
    this.self = this.capture.command;
    if (before === null || describeCapture(before) !== describeCapture(this.capture))
      this.opts.logger.info(`Capture process: ${describeCapture(this.capture)}`);
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
    const exitFile = path.join(runDir, `exit-${spec.generation}.json`);
    fs.rmSync(exitFile, { force: true });
    await this.chooseCapture();
    let shim: Shim;
    try {
      shim = this.liveShim() ?? this.spawnShim(spec);
    } catch (err) {
      // The native helper's copy vanished between choosing and starting it (another build's
      // monitor pruned it, capture-impl.ts pruneCopies): choose again (it is written out anew, or
      // the Bun shim is used) and start once more.
      if (this.capture?.kind !== "native" || fs.existsSync(this.capture.path)) throw err;
      this.captureChosen = false;
      await this.chooseCapture();
      shim = this.spawnShim(spec);
    }

    const g = newGeneration({
      generation: spec.generation,
      mode: "pipe",
      argv0,
      shimPid: shim.pid,
      shimStart: shim.start,
      childPid: null,
      exitFile,
      logPath: this.logPath,
      logIno: 0,
      logOffset: 0,
      startedAt: Date.now(),
      proc: shim.proc,
    });
    g.starting = true;
    if (this.capture !== null) g.capture = this.capture.kind;
    this.cur = g;
    shim.gen = g;

    let started!: () => void;
    const startedP = new Promise<void>((r) => {
      started = r;
    });
    g.onStarted = started;
    let failed!: (why: string) => void;
    const failedP = new Promise<string>((r) => {
      failed = r;
    });
    shim.onFail = failed;
    const endedP = new Promise<void>((r) => {
      shim.onEnded = r;
      if (!shim.alive) r();
    });
    const request: GenerationRequest = {
      generation: spec.generation,
      argv: spec.argv,
      cwd: spec.cwd,
      env: spec.env,
      exitFile,
    };
    try {
      shim.proc.stdin.write(`${JSON.stringify(request)}\n`);
      shim.proc.stdin.flush();
    } catch {
      // The shim is going away; its end is reported below.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      startedP.then(() => "started" as const),
      failedP.then(() => "failed" as const),
      endedP.then(() => "ended" as const),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), START_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    shim.onFail = null;
    shim.onEnded = null;
    g.starting = false;
    if (outcome === "started") {
      logger.info(
        `Started generation ${g.generation}: ${spec.argv.join(" ")} (pid ${g.childPid}, capture shim pid ${g.shimPid})`,
      );
      const rec = this.recordOf(g);
      // A child that exited at once: its exit reaches the sink after the caller has the start.
      const early = g.earlyExit;
      // setImmediate, not setTimeout(0): a timer waits at least 1 ms (issue 13, restart latency).
      if (early !== undefined) setImmediate(() => this.deliver(g, early.exit));
      return rec;
    }
    this.cur = null;
    shim.gen = null;
    if (outcome === "failed") throw new Error(`Cannot start ${argv0}: ${g.failure}`);
    if (outcome === "timeout") {
      await killGroupGracefully(g.shimPid, 1000);
      throw new Error(`Cannot start ${argv0}: the capture shim did not report a start within 30 s`);
    }
    await shim.proc.exited;
    let tail = "";
    const shimLog = path.join(runDir, "shim.log");
    try {
      tail = fs.readFileSync(shimLog, "utf8").trim().split("\n").slice(-3).join(" | ");
    } catch {}
    throw new Error(
      `Cannot start ${argv0}: the capture shim exited with code ${shim.proc.exitCode ?? shim.proc.signalCode}` +
        (tail ? ` (${shimLog}: ${tail})` : ""),
    );
  }

  /** The serving shim if it is still there to take a request. */
  private liveShim(): Shim | null {
    const sh = this.shim;
    if (sh === null || !sh.alive || sh.gen !== null) return null;
    return sh;
  }

  /** Start the serving capture process, in a session of its own (it leads the children's group). */
  private spawnShim(spec: LaunchSpec): Shim {
    const runDir = path.resolve(this.opts.runDir);
    fs.mkdirSync(runDir, { recursive: true });
    fs.mkdirSync(path.dirname(this.logPath), { recursive: true });
    const cmd = [
      ...this.self,
      "__shim",
      ...serveArgs({
        logPath: this.logPath,
        maxLineLength: this.opts.maxLineLength,
        logMaxBytes: this.opts.processLogMaxBytes,
        logBackups: this.opts.processLogBackups,
      }),
    ];
    const shimLog = path.join(runDir, "shim.log");
    const errFd = fs.openSync(shimLog, "a");
    let proc: Bun.Subprocess<"pipe", "pipe", number>;
    try {
      proc = Bun.spawn(cmd, {
        cwd: spec.cwd,
        env: spec.env,
        stdin: "pipe",
        stdout: "pipe",
        stderr: errFd,
        detached: true,
        // The shim may be exec'd through /proc/self/exe (see selfImageCommand); show the real name.
        // (The native helper keeps its own name.)
        argv0: this.self[0] === "/proc/self/exe" ? process.execPath : undefined,
      });
    } catch (err) {
      throw new Error(
        `Cannot start ${spec.argv[0]}: cannot run the capture shim (${this.self[0]}): ${message(err)}`,
      );
    } finally {
      fs.closeSync(errFd);
    }
    const sh: Shim = {
      proc,
      pid: proc.pid,
      start: procStartTime(proc.pid),
      gen: null,
      ended: Promise.resolve(),
      alive: true,
      onFail: null,
      onEnded: null,
    };
    sh.ended = this.pump(sh, proc.stdout);
    this.shim = sh;
    return sh;
  }

  /**
   * Read the serving shim's frames until its stdout closes; each generation's frames go to it and
   * its `X` frame delivers its exit. When the shim ends in the middle of a generation, the exit file
   * (or nothing: `unknown`) is what that generation gets.
   */
  private async pump(sh: Shim, stream: ReadableStream<Uint8Array>): Promise<void> {
    const { sink, logger } = this.opts;
    const reader = stream.getReader();
    sh.reader = reader;
    // Frames are bounded by the shim; the bound here only guards against a misbehaving shim.
    const maxFrame = Math.max(this.opts.maxLineLength, 4096) + 1 + LINE_CUT_MARKER.length;
    const onFrame = (f: string): void => {
      const g = sh.gen;
      const gen = g?.generation ?? 0;
      try {
        switch (f.charCodeAt(0)) {
          case TAG_STDOUT:
            if (g !== null && !g.detached && g.catchUp === undefined) sink.line(f.slice(1), "stdout", gen);
            break;
          case TAG_STDERR:
            if (g !== null && !g.detached && g.catchUp === undefined) sink.line(f.slice(1), "stderr", gen);
            break;
          case TAG_OFFSET: {
            if (g === null || g.catchUp !== undefined) break;
            const colon = f.indexOf(":");
            g.logIno = Number(f.slice(1, colon));
            g.logOffset = Number(f.slice(colon + 1));
            break;
          }
          case TAG_PID:
            if (g === null) break;
            g.childPid = Number(f.slice(1));
            g.onStarted?.();
            break;
          case TAG_EXIT: {
            if (g === null) break;
            const exit = parseShimExit(f.slice(1));
            g.shimExit = exit;
            sh.gen = null;
            const mine = exit !== null && exit.generation === gen ? exit : null;
            if (g.catchUp !== undefined) {
              // Every line is in process.log before the X frame is sent: read to its end, then deliver.
              const caught = g.catchUp;
              void caught
                .then(() => g.follower?.stop(true))
                .then(() => {
                  if (!g.detached) this.deliver(g, mine);
                });
            } else if (g.starting) g.earlyExit = { exit: mine };
            else if (!g.detached) this.deliver(g, mine);
            break;
          }
          case TAG_FAIL:
            if (g !== null) g.failure = f.slice(1);
            sh.onFail?.(f.slice(1));
            break;
          case TAG_DROPPED:
            if (g !== null && g.catchUp === undefined && !g.detached) {
              logger.warn(
                `${f.slice(1)} lines of generation ${gen} were not forwarded (the monitor fell behind); ` +
                  "reading them and the rest of this generation from process.log",
              );
              g.catchUp = this.followFromLog(g);
            }
            break;
          case TAG_WARN:
            logger.warn(`capture shim (generation ${gen}): ${f.slice(1)}`);
            break;
        }
      } catch (err) {
        logger.error(`Supervisor sink failed on a line of generation ${gen}: ${message(err)}`);
      }
    };
    // The bytes path: runs of O/E frames go to the sink undecoded when it takes them (the monitor's
    // detector set reads them as bytes; docs/architecture.md, "Ingest"), under the same conditions
    // as a decoded line frame above.
    const sinkLines = sink.lineBytes;
    const onLines =
      sinkLines === undefined
        ? undefined
        : (b: Uint8Array, from: number, to: number, maxLine: number): number => {
            const g = sh.gen;
            if (g === null || g.detached || g.catchUp !== undefined) return from;
            try {
              return sinkLines.call(sink, b, from, to, LINE_TAG_STREAMS, maxLine, g.generation);
            } catch (err) {
              logger.error(`Supervisor sink failed on lines of generation ${g.generation}: ${message(err)}`);
              return to;
            }
          };
    const frames = new FrameReader(maxFrame, { frame: onFrame, lines: onLines }, [TAG_STDOUT, TAG_STDERR]);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        frames.push(value);
      }
    } catch {
      // Cancelled by detach() or close().
    }
    if (sh.detached) return;
    frames.end();
    await sh.proc.exited;
    sh.alive = false;
    sh.onEnded?.();
    if (this.shim === sh) this.shim = null;
    const g = sh.gen;
    sh.gen = null;
    if (g === null || g.childPid === null || g.detached || g.delivered) return;
    let exit = readExitFile(g.exitFile);
    if (exit !== null && exit.generation !== g.generation) exit = null;
    let detail =
      exit === null
        ? `capture shim ended (${sh.proc.signalCode ?? `code ${sh.proc.exitCode}`}) without recording the exit`
        : "capture shim ended after writing the exit file";
    // A signal sent to the whole group (`kill -KILL -PGID`, the OOM killer's cgroup kill) ends
    // the shim and the child together: the shim died of it and nobody of the group is left, so
    // the child died of the same signal. Reported as that signal, not as exit "unknown"
    // (issue 16, finding 11).
    const sig = typeof sh.proc.signalCode === "string" ? sh.proc.signalCode : null;
    if (exit === null && sig && (await this.groupEmptiesSoon(g))) {
      exit = {
        generation: g.generation,
        pid: g.childPid,
        code: null,
        signal: sig,
        at: Date.now(),
        leftovers: 0,
      };
      detail = `capture shim and child ended by ${sig} together (a signal to the whole process group)`;
    }
    await this.cleanUpAfterShim(g, exit);
    this.deliver(g, exit, detail);
  }

  /**
   * Read generation `g` from process.log from the last offset the frames reported (issue 16
   * finding 2: a flood never costs a line, only latency). Rotations in between are followed.
   */
  private async followFromLog(g: Generation): Promise<void> {
    const { sink, logger } = this.opts;
    const onLine = (text: string): void => {
      if (isBanner(text) || g.detached) return;
      try {
        sink.line(text, "log", g.generation);
      } catch (err) {
        logger.error(`Supervisor sink failed on a line of generation ${g.generation}: ${message(err)}`);
      }
    };
    const from = await this.catchUpRotated(g, onLine);
    g.follower = followFile(g.logPath, {
      ...from,
      maxLineLength: this.opts.maxLineLength,
      onLine,
      pollMs: 100,
      onError: (err) => logger.warn(`Reading ${g.logPath}: ${err.message}`),
    });
  }

  /**
   * Let the serving shim go: it exits once it has no generation to run (at once when idle). Called
   * when the monitor stops; a restart keeps it.
   */
  async close(): Promise<void> {
    const sh = this.shim;
    if (sh === null) return;
    this.shim = null;
    try {
      sh.proc.stdin.end();
    } catch {}
    if (sh.gen === null && !(await within(sh.ended, SHIM_EXIT_WAIT_MS))) {
      if (pidAlive(sh.pid) && procStartTime(sh.pid) === sh.start) {
        try {
          process.kill(sh.pid, "SIGKILL");
        } catch {}
      }
      await within(sh.ended, SHIM_EXIT_WAIT_MS);
    }
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
    // The exit file stays until the monitor has recorded this exit (exitRecorded): a monitor
    // killed between here and its incident must leave the exit for the next one (issue 16).
    try {
      sink.exit(result);
    } catch (err) {
      logger.error(`Supervisor sink failed on the exit of generation ${g.generation}: ${message(err)}`);
    }
    g.resolveExited();
  }

  /** The exit file of `generation` (the capture process writes it; only the monitor removes it). */
  private exitFileOf(generation: number): string {
    return path.join(path.resolve(this.opts.runDir), `exit-${generation}.json`);
  }

  exitRecorded(generation: number): void {
    try {
      fs.rmSync(this.exitFileOf(generation), { force: true });
    } catch (err) {
      this.opts.logger.warn(`Cannot remove ${this.exitFileOf(generation)}: ${message(err)}`);
    }
  }

  dropRecordedExits(unrecorded: number | null): void {
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.resolve(this.opts.runDir));
    } catch {
      return;
    }
    for (const name of names) {
      const m = /^exit-(\d+)\.json$/.exec(name);
      if (m && Number(m[1]) !== unrecorded) this.exitRecorded(Number(m[1]));
    }
  }

  /** Birth time of the file `g.logIno` names (looked up once per inode). */
  private birthOf(g: Generation): number {
    if (g.logIno === 0) return 0;
    if (g.logBirth && g.logBirthIno === g.logIno) return g.logBirth;
    try {
      const st = fs.statSync(g.logPath);
      if (st.ino === g.logIno) {
        g.logBirth = st.birthtimeMs;
        g.logBirthIno = g.logIno;
        return g.logBirth;
      }
    } catch {}
    return 0;
  }

  /** The generation's child is alive and still the shim's child (a serving shim outlives it). */
  private childOfShim(g: Generation): boolean {
    if (g.childPid === null) return true;
    const st = readProcStat(g.childPid);
    return st !== null && st.state !== "Z" && st.state !== "X" && st.ppid === g.shimPid;
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
      if (!argv.includes("__shim")) continue;
      // A per-generation shim names its exit file under our run dir; a serving shim (one per run,
      // asked for each generation on its stdin) names our process.log. A previous monitor killed
      // right after asking its serving shim for a generation leaves that generation unrecorded.
      const i = argv.indexOf("--exit-file");
      const ours =
        (i >= 0 && (argv[i + 1] ?? "").startsWith(runDir)) ||
        (argv.includes(SERVE_FLAG) && argv[argv.indexOf("--log") + 1] === path.resolve(this.logPath));
      if (!ours) continue;
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
    // Members other than the serving shim (which stays for the next generation) must be gone.
    const others = (): number[] =>
      groupMembers(g.shimPid).filter((p) => p !== g.shimPid || !this.shimAlive(g));
    if (this.groupIsOurs(g) && others().length > 0) {
      for (const p of others()) {
        try {
          process.kill(p, "SIGKILL");
        } catch {}
      }
      if (!this.shimAlive(g)) signalGroup(g.shimPid, "SIGKILL");
      const end = Date.now() + 5000;
      while (others().length > 0 && Date.now() < end) await Bun.sleep(50);
      const left = others();
      if (left.length > 0)
        logger.error(`Processes survived SIGKILL in group ${g.shimPid}: ${left.join(", ")}`);
    }
    if (reason !== "restart") await this.close();
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
    const g = this.followedGeneration(record, shimPid, shimStart, exitFile);
    if (!this.shimAlive(g) || !this.childOfShim(g)) {
      // The shim is gone (or it lives on, serving, but this generation's child is gone). If it was killed, its child may still run unobserved: do not leave it.
      if (this.groupIsOurs(g) && groupMembers(shimPid).length > 0) {
        logger.warn(
          `Generation ${g.generation}: capture shim ${shimPid} is gone but its group is not; killing it`,
        );
        await killGroupGracefully(shimPid, 2000);
        return false;
      }
      // A child that ended while no monitor watched is handled by recoverExit (issue 16, finding 4):
      // the monitor asks for it when adoption fails.
      return false;
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
    // The file read last is the one with the recorded inode AND birth time (when recorded).
    const same = (file: string): boolean => {
      try {
        const st = fs.statSync(file);
        const birthKnown = !!g.logBirth && g.logBirthIno === g.logIno;
        return st.ino === g.logIno && (!birthKnown || st.birthtimeMs === g.logBirth);
      } catch {
        return false;
      }
    };
    if (g.logIno === 0 || same(g.logPath))
      return { fromOffset: g.logOffset, expectIno: g.logIno || undefined };
    let found = 0;
    for (let i = 1; i <= this.opts.processLogBackups; i++) {
      if (same(`${g.logPath}.${i}`)) {
        found = i;
        break;
      }
    }
    if (found === 0) {
      this.opts.logger.warn(
        `${g.logPath} was rotated more often than it keeps backups (${this.opts.processLogBackups}) since ` +
          `the recorded offset: the lines between were rotated away unread; reading on from the oldest kept file`,
      );
      // Everything still kept is unread: the backups, oldest first, then the current file.
      for (let i = this.opts.processLogBackups; i >= 1; i--) {
        if (!fs.existsSync(`${g.logPath}.${i}`)) continue;
        const f = followFile(`${g.logPath}.${i}`, {
          fromOffset: 0,
          maxLineLength: this.opts.maxLineLength,
          onLine,
          pollMs: 60_000,
        });
        await f.stop(true);
      }
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

  /** The bookkeeping of a generation another monitor launched, to be followed through its log. */
  private followedGeneration(
    record: ChildRecord,
    shimPid: number,
    shimStart: string | null,
    exitFile: string,
  ): Generation {
    const d = record.details;
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
      logBirth: typeof d["logBirth"] === "number" ? d["logBirth"] : 0,
      logBirthIno: typeof d["logIno"] === "number" ? d["logIno"] : 0,
      logOffset: record.logOffset,
      startedAt: record.startedAt,
      proc: null,
    });
    const capture = d["capture"];
    if (capture === "native" || capture === "bun") g.capture = capture;
    return g;
  }

  /**
   * The child of `record` ended while no monitor was watching (issue 16 finding 4): read the lines
   * of process.log the last monitor had not read (through rotations, see catchUpRotated) and the
   * exit file, and deliver both to the sink as if they had been watched: the failure is handled
   * like any other (incident, counted). False, with nothing delivered, when no exit file for that
   * generation exists (then nobody knows how it ended).
   */
  /**
   * `fromLaunch`: read the generation's output from its start banner, not from the record's read
   * position: the previous monitor may have read (and recorded the position of) lines whose
   * detections died with it, before their incident was written.
   */
  async recoverExit(record: ChildRecord, opts: { fromLaunch?: boolean } = {}): Promise<boolean> {
    if (record.kind !== "local" || this.running()) return false;
    const d = record.details;
    const exitFile = typeof d["exitFile"] === "string" ? d["exitFile"] : null;
    const shimPid = typeof d["shimPid"] === "number" ? d["shimPid"] : 0;
    const shimStart = typeof d["shimStart"] === "string" ? d["shimStart"] : null;
    if (exitFile === null) return false;
    // A capture process that is still finishing (draining, writing the exit file) is given a moment.
    const end = Date.now() + SHIM_EXIT_WAIT_MS;
    while (
      readExitFile(exitFile) === null &&
      shimPid > 1 &&
      pidAlive(shimPid) &&
      procStartTime(shimPid) === shimStart &&
      Date.now() < end
    ) {
      await Bun.sleep(20);
    }
    const exit = readExitFile(exitFile);
    if (exit === null || exit.generation !== record.generation) return false;
    // Generation numbers restart with each run: the exit must be this record's child's.
    if (record.pid !== null && exit.pid !== record.pid) return false;
    const g = this.followedGeneration(record, shimPid, shimStart, exitFile);
    if (opts.fromLaunch) rewindToLaunch(g, exit.pid);
    const { sink, logger } = this.opts;
    let lines = 0;
    const onLine = (text: string): void => {
      if (isBanner(text)) return;
      lines++;
      try {
        sink.line(text, "log", g.generation);
      } catch (err) {
        logger.error(`Supervisor sink failed on a line of generation ${g.generation}: ${message(err)}`);
      }
    };
    const from = await this.catchUpRotated(g, onLine);
    const f = followFile(g.logPath, {
      ...from,
      maxLineLength: this.opts.maxLineLength,
      onLine,
      pollMs: 60_000,
    });
    await f.stop(true);
    logger.warn(
      `Generation ${g.generation} ended while no monitor was running (exit file ${exitFile}); ` +
        `${lines} unread line(s) of ${g.logPath} read, its exit handled now`,
    );
    this.deliver(g, exit, "ended while no monitor was running");
    return true;
  }

  private async checkAdopted(g: Generation): Promise<void> {
    if (g.checking || g.delivered || g.detached) return;
    // Done when the shim is gone, or when it recorded this generation's exit (a serving shim of a
    // monitor that died exits right after; one that serves on must not keep us waiting).
    if (this.shimAlive(g) && readExitFile(g.exitFile)?.generation !== g.generation) return;
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
    if (g === null || g.delivered || g.detached) {
      await this.close();
      return;
    }
    g.detached = true;
    if (g.poll !== null) clearInterval(g.poll);
    g.poll = null;
    if (g.follower !== null) {
      const o = g.follower.offset();
      await g.follower.stop();
      if (o.ino !== 0) g.logIno = o.ino;
      g.logOffset = o.offset;
    }
    const sh = this.shim;
    if (sh !== null && sh.gen === g) {
      // The shim finishes this generation on its own (stdin closed: no further one) and exits.
      this.shim = null;
      sh.detached = true;
      try {
        sh.proc.stdin.end();
      } catch {}
      if (sh.reader) await sh.reader.cancel().catch(() => {});
      sh.proc.unref();
    }
    this.opts.logger.info(
      `Detached from generation ${g.generation}; it keeps running (capture shim pid ${g.shimPid}, ${g.logPath})`,
    );
  }

  record(): ChildRecord | null {
    const g = this.cur;
    if (g === null || g.delivered) return null;
    return this.recordOf(g);
  }

  private recordOf(g: Generation): ChildRecord {
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
        logBirth: this.birthOf(g),
        ...(g.capture !== undefined ? { capture: g.capture } : {}),
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

/** Banners are at most a few hundred bytes; a generation's start is looked for this far back. */
const LAUNCH_LOOKBACK_BYTES = 8 * 1024 * 1024;

/**
 * Move `g`'s read position back to just after its start banner (`===== autosentry: start … gen=N
 * pid=P =====`) when that banner is in the file `g` reads, before the position, within the last
 * 8 MiB. Otherwise (rotated away, not found) the position is left as it was.
 */
function rewindToLaunch(g: Generation, pid: number | null): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(g.logPath, "r");
    const st = fs.fstatSync(fd);
    if (g.logIno !== 0 && st.ino !== g.logIno) return;
    const end = Math.min(g.logOffset, st.size);
    const start = Math.max(0, end - LAUNCH_LOOKBACK_BYTES);
    const buf = Buffer.alloc(end - start);
    fs.readSync(fd, buf, 0, buf.length, start);
    const text = buf.toString("latin1");
    const mark = ` gen=${g.generation}${pid !== null ? ` pid=${pid}` : ""} =====\n`;
    let at = text.lastIndexOf(mark);
    while (at >= 0) {
      const lineStart = text.lastIndexOf("\n", at) + 1;
      if (text.startsWith("===== autosentry: start ", lineStart)) {
        g.logOffset = start + at + mark.length;
        return;
      }
      at = at > 0 ? text.lastIndexOf(mark, at - 1) : -1;
    }
  } catch {
    // unreadable: keep the recorded position
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
