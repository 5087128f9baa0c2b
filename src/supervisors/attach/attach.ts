/**
 * @module
 * The attach supervisor: watch a process that something else started and owns (a service manager,
 * another user's shell), by pid or pid file, and follow its log file.
 *
 * - The pid comes from `process.extra.pid`, or from `pid_file` (its first token), which is read
 *   again every second: when the process behind it is replaced (a service manager's restart), the
 *   new one is followed, as the same launch, with a warning in the log. The /proc start time tells
 *   a reused pid from the process we attached to.
 * - Liveness is read from /proc (a zombie is dead: PID 1 here reaps orphans lazily, so `kill -0`
 *   would still succeed). An ended process has exit class `unknown`: nobody can know its exit code.
 *   With a pid file, the end is reported only after the file has named no live process for
 *   {@link AttachSupervisorOptions.replaceGraceMs} (a service manager may be restarting it).
 * - `log_path` is followed from its end when autosentry first attaches, by inode across rotation and
 *   through truncation; a later attach (after an exit, or by a new monitor) continues where reading
 *   stopped, so nothing is read twice and nothing written in between is lost.
 * - autosentry cannot restart what it did not start: `capabilities.restart` is false, and the
 *   monitor records that restart actions cannot be applied.
 * - Only `abort` with `allow_kill: true` signals the process: SIGTERM, `stop_grace_seconds`, then
 *   SIGKILL, to its process group when it leads one (its workers go with it), else to the pid.
 *   `pause`, `shutdown` (the monitor stopping) and `abort` without `allow_kill` never touch it:
 *   autosentry only stops watching, says so in the log, and reports the watch as `stopped`.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import type { ChildExit } from "../../core/types.ts";
import type { Logger } from "../../util/logger.ts";
import { killGroupGracefully, pidAlive, procStartTime, readProcStat } from "../../util/proc.ts";
import { type Follower, followFile } from "../../util/tail.ts";
import { deliverExit } from "../backend-helpers.ts";
import type { ChildRecord, LaunchSpec, StopReason, Supervisor, SupervisorSink } from "../types.ts";

export interface AttachSupervisorOptions {
  sink: SupervisorSink;
  logger: Logger;
  maxLineLength: number;
  pid?: number | undefined;
  /** Absolute path of the pid file. */
  pidFile?: string | undefined;
  /** Absolute path of the log file to follow. */
  logPath?: string | undefined;
  allowKill: boolean;
  /** How often liveness and the pid file are checked (default 1 s). */
  pollMs?: number;
  /** With a pid file: how long it may name no live process before the end is reported (default 10 s). */
  replaceGraceMs?: number;
}

interface Watch {
  generation: number;
  pid: number;
  procStart: string | null;
  startedAt: number;
  follower: Follower | null;
  logIno: number;
  logOffset: number;
  poll: ReturnType<typeof setInterval> | null;
  goneSince: number | null;
  stopRequestedAt: number | null;
  delivered: boolean;
  detached: boolean;
  finishing: boolean;
  exited: Promise<void>;
  resolveExited: () => void;
}

/** The pid named by a pid file (its first token), or null with the reason. */
export function readPidFile(file: string): { pid: number | null; why: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { pid: null, why: code === "ENOENT" ? `${file} does not exist` : `cannot read ${file}: ${code}` };
  }
  const tok = text.trim().split(/\s+/)[0] ?? "";
  const pid = /^\d+$/.test(tok) ? Number(tok) : Number.NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0) return { pid: null, why: `${file} does not start with a pid` };
  return { pid, why: "" };
}

export class AttachSupervisor implements Supervisor {
  readonly kind = "attach" as const;
  readonly capabilities = { restart: false, stop: true };
  private cur: Watch | null = null;
  /** Where the previous watch stopped reading the log (a later attach continues there). */
  private logPos: { ino: number; offset: number } | null = null;

  constructor(private readonly opts: AttachSupervisorOptions) {}

  /** The pid to watch now and its start time; throws with the reason when there is none. */
  private currentPid(): { pid: number; start: string } {
    const { pid, pidFile } = this.opts;
    let target: number;
    if (pidFile !== undefined) {
      const r = readPidFile(pidFile);
      if (r.pid === null) throw new Error(`Cannot attach: ${r.why}`);
      target = r.pid;
    } else if (pid !== undefined) {
      target = pid;
    } else {
      throw new Error("Cannot attach: set process.extra.pid or process.extra.pid_file");
    }
    const start = procStartTime(target);
    if (start === null || !pidAlive(target)) {
      throw new Error(`Cannot attach: pid ${target}${pidFile ? ` (from ${pidFile})` : ""} is not running`);
    }
    return { pid: target, start };
  }

  async start(spec: LaunchSpec): Promise<ChildRecord> {
    if (this.running())
      throw new Error(`Cannot attach generation ${spec.generation}: pid ${this.cur!.pid} is being watched`);
    const { pid, start } = this.currentPid();
    const w = this.newWatch(spec.generation, pid, start, Date.now());
    this.cur = w;
    const from = this.logPos;
    this.follow(w, from === null ? "end" : from.offset, from?.ino);
    this.opts.logger.info(
      `Attached generation ${spec.generation} to pid ${pid}${this.opts.logPath ? `; following ${this.opts.logPath} from ${from === null ? "its end" : `byte ${from.offset}`}` : "; no log_path to follow"}`,
    );
    return this.record()!;
  }

  private newWatch(generation: number, pid: number, procStart: string | null, startedAt: number): Watch {
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => {
      resolveExited = r;
    });
    return {
      generation,
      pid,
      procStart,
      startedAt,
      follower: null,
      logIno: 0,
      logOffset: 0,
      poll: null,
      goneSince: null,
      stopRequestedAt: null,
      delivered: false,
      detached: false,
      finishing: false,
      exited,
      resolveExited,
    };
  }

  private follow(w: Watch, fromOffset: number | "end", expectIno: number | undefined): void {
    const { logPath, sink, logger } = this.opts;
    if (logPath !== undefined) {
      const gen = w.generation;
      w.follower = followFile(logPath, {
        fromOffset,
        ...(expectIno ? { expectIno } : {}),
        maxLineLength: this.opts.maxLineLength,
        onLine: (text) => {
          try {
            sink.line(text, "log", gen);
          } catch (err) {
            logger.error(`Supervisor sink failed on a line of generation ${gen}: ${(err as Error).message}`);
          }
        },
        onError: (err) => logger.warn(`Reading ${logPath}: ${err.message}`),
      });
    }
    w.poll = setInterval(() => void this.check(w), this.opts.pollMs ?? 1000);
  }

  /** Alive and the same process (not a reused pid). */
  private alive(pid: number, start: string | null): boolean {
    return pidAlive(pid) && (start === null || procStartTime(pid) === start);
  }

  private async check(w: Watch): Promise<void> {
    // While a stop is under way, the stop reports the end.
    if (w.delivered || w.detached || w.finishing || w.stopRequestedAt !== null) return;
    const { pidFile, logger } = this.opts;
    if (pidFile !== undefined) {
      const r = readPidFile(pidFile);
      if (r.pid !== null && r.pid !== w.pid) {
        const start = procStartTime(r.pid);
        if (start !== null && pidAlive(r.pid)) {
          const was = this.alive(w.pid, w.procStart) ? "still running" : "gone";
          logger.warn(
            `${pidFile} now names pid ${r.pid} (was ${w.pid}, ${was}): following pid ${r.pid}, restarted by its service manager?`,
          );
          w.pid = r.pid;
          w.procStart = start;
          w.goneSince = null;
          return;
        }
      }
    }
    if (this.alive(w.pid, w.procStart)) {
      w.goneSince = null;
      return;
    }
    const now = Date.now();
    w.goneSince ??= now;
    const grace = pidFile !== undefined ? (this.opts.replaceGraceMs ?? 10_000) : 0;
    if (now - w.goneSince < grace) return;
    await this.finish(
      w,
      `pid ${w.pid} is gone; the exit code of a process autosentry did not start cannot be known`,
    );
  }

  private async finish(w: Watch, detail: string): Promise<void> {
    if (w.finishing || w.delivered) return;
    w.finishing = true;
    if (w.poll !== null) clearInterval(w.poll);
    w.poll = null;
    if (w.follower !== null) {
      await w.follower.stop(true);
      const o = w.follower.offset();
      w.logIno = o.ino;
      w.logOffset = o.offset;
      this.logPos = { ino: o.ino, offset: o.offset };
    }
    if (w.detached) return;
    const exit: ChildExit = {
      code: null,
      signal: null,
      exitClass: w.stopRequestedAt !== null ? "stopped" : "unknown",
      at: Date.now(),
      generation: w.generation,
      detail,
    };
    deliverExit(
      w,
      exit,
      this.opts.sink,
      this.opts.logger,
      `Attached generation ${w.generation} ended: ${detail}`,
    );
  }

  async stop(reason: StopReason, graceSeconds: number): Promise<void> {
    const w = this.cur;
    if (w === null || w.delivered || w.detached) return;
    const { logger } = this.opts;
    w.stopRequestedAt ??= Date.now();
    if (reason !== "abort" || !this.opts.allowKill) {
      const why =
        reason === "abort"
          ? "abort: pid %p was not signalled (process.extra.allow_kill is false); autosentry stopped watching it"
          : `${reason}: the attach backend never stops pid %p; autosentry stopped watching it`;
      const msg = why.replace("%p", String(w.pid));
      logger.warn(msg);
      await this.finish(w, msg);
      return;
    }
    const pid = w.pid;
    if (!this.alive(pid, w.procStart)) {
      await this.finish(w, `abort: pid ${pid} had already ended`);
      return;
    }
    const st = readProcStat(pid);
    const leadsGroup =
      st !== null && st.pgrp === pid && pid !== process.pid && st.pgrp !== readProcStat(process.pid)?.pgrp;
    logger.info(
      `abort (allow_kill): SIGTERM to ${leadsGroup ? `process group ${pid}` : `pid ${pid}`}, grace ${graceSeconds}s, then SIGKILL`,
    );
    if (leadsGroup) {
      const res = await killGroupGracefully(pid, Math.max(0, graceSeconds) * 1000);
      if (res.survivors.length > 0)
        logger.error(`Processes survived SIGKILL in group ${pid}: ${res.survivors.join(", ")}`);
    } else {
      try {
        process.kill(pid, "SIGTERM");
        process.kill(pid, "SIGCONT");
      } catch {}
      const end = Date.now() + Math.max(0, graceSeconds) * 1000;
      while (this.alive(pid, w.procStart) && Date.now() < end) await Bun.sleep(50);
      if (this.alive(pid, w.procStart)) {
        logger.warn(`pid ${pid} did not end within ${graceSeconds}s; sending SIGKILL`);
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
        const killEnd = Date.now() + 5000;
        while (this.alive(pid, w.procStart) && Date.now() < killEnd) await Bun.sleep(50);
      }
    }
    await this.finish(
      w,
      this.alive(pid, w.procStart)
        ? `abort: pid ${pid} survived SIGKILL`
        : `abort: pid ${pid} was killed (allow_kill)`,
    );
  }

  async adopt(record: ChildRecord): Promise<boolean> {
    const { logger } = this.opts;
    if (record.kind !== "attach") return false;
    if (this.running())
      throw new Error(`Cannot adopt generation ${record.generation}: a process is being watched`);
    const d = record.details;
    const pid = typeof d["pid"] === "number" ? d["pid"] : record.pid;
    const start = typeof d["procStart"] === "string" ? d["procStart"] : null;
    if (pid === null || pid <= 0) return false;
    let target = pid;
    let targetStart = start;
    if (!this.alive(pid, start)) {
      // Replaced while no monitor watched (a service manager's restart)? Then follow the new one.
      let next: { pid: number; start: string } | null = null;
      try {
        if (this.opts.pidFile !== undefined) next = this.currentPid();
      } catch {}
      if (next === null) {
        logger.info(`pid ${pid} of generation ${record.generation} is gone`);
        return false;
      }
      logger.warn(`pid ${pid} is gone; ${this.opts.pidFile} now names pid ${next.pid}: following it`);
      target = next.pid;
      targetStart = next.start;
    }
    const w = this.newWatch(record.generation, target, targetStart, record.startedAt);
    this.cur = w;
    const ino = typeof d["logIno"] === "number" ? d["logIno"] : 0;
    const from = await this.catchUpRotated(w, record.logPath, ino, record.logOffset);
    this.follow(w, from.offset, from.ino);
    logger.info(`Adopted generation ${record.generation}: watching pid ${target}`);
    return true;
  }

  /**
   * The log was rotated since the record was written: read the rest of the file the offset refers
   * to (found by inode next to the log), then start the current file at 0.
   */
  private async catchUpRotated(
    w: Watch,
    recorded: string | null,
    ino: number,
    offset: number,
  ): Promise<{ offset: number; ino: number | undefined }> {
    const logPath = this.opts.logPath;
    if (logPath === undefined || recorded !== logPath || ino === 0) return { offset, ino: ino || undefined };
    let now = 0;
    try {
      now = fs.statSync(logPath).ino;
    } catch {}
    if (now === ino) return { offset, ino };
    const dir = path.dirname(logPath);
    const base = path.basename(logPath);
    let old: string | null = null;
    try {
      for (const name of fs.readdirSync(dir)) {
        if (name === base || !name.startsWith(base)) continue;
        try {
          if (fs.statSync(path.join(dir, name)).ino === ino) old = path.join(dir, name);
        } catch {}
      }
    } catch {}
    if (old !== null) {
      const gen = w.generation;
      const f = followFile(old, {
        fromOffset: offset,
        expectIno: ino,
        maxLineLength: this.opts.maxLineLength,
        onLine: (text) => this.opts.sink.line(text, "log", gen),
        pollMs: 60_000,
      });
      await f.stop(true);
    } else {
      this.opts.logger.warn(
        `${logPath} was rotated away since the last monitor; lines in between were not seen`,
      );
    }
    return { offset: 0, ino: undefined };
  }

  async detach(): Promise<void> {
    const w = this.cur;
    if (w === null || w.delivered || w.detached) return;
    w.detached = true;
    if (w.poll !== null) clearInterval(w.poll);
    w.poll = null;
    if (w.follower !== null) {
      const o = w.follower.offset();
      await w.follower.stop();
      w.logIno = o.ino;
      w.logOffset = o.offset;
    }
    this.opts.logger.info(`Detached from pid ${w.pid}; it was never touched`);
  }

  record(): ChildRecord | null {
    const w = this.cur;
    if (w === null || w.delivered) return null;
    if (w.follower !== null && !w.detached) {
      const o = w.follower.offset();
      if (o.ino !== 0) w.logIno = o.ino;
      w.logOffset = o.offset;
    }
    return {
      kind: "attach",
      generation: w.generation,
      pid: w.pid,
      pgid: null,
      startedAt: w.startedAt,
      details: {
        pid: w.pid,
        procStart: w.procStart,
        pidFile: this.opts.pidFile ?? null,
        logIno: w.logIno,
      },
      logPath: this.opts.logPath ?? null,
      logOffset: w.logOffset,
    };
  }

  running(): boolean {
    const w = this.cur;
    return w !== null && !w.delivered && !w.detached;
  }
}
