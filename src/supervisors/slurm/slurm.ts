/**
 * @module
 * The SLURM supervisor: the monitor (typically on a login node) submits the work as a batch job,
 * follows the job's output files and polls the scheduler for its state.
 *
 * - `start` submits with sbatch (submit.ts) and learns the output files from `scontrol show job`
 *   (expanded by slurmctld), else from the command line and the script's `#SBATCH` lines, or from
 *   `process.extra.log_pattern`. Separate `--output`/`--error` files are followed as stdout and
 *   stderr; one file is followed as `log`. A file is followed from its creation, through requeues
 *   (which truncate it) and rotation. A file that already exists when the job is submitted (a fixed
 *   `--output` name) is never read for its earlier content: with `--open-mode=append` it is followed
 *   from its current end, otherwise from 0 once the job has rewritten it. The same holds after a
 *   requeue the monitor observed, so a new run that outgrows the old file before its truncation is
 *   noticed cannot lose its first lines.
 * - Polling: `squeue` every `poll_interval_seconds` (default 15 s, never more than once a second);
 *   when the job is finished (a terminal state, or squeue no longer knows it) the state and exit
 *   code come from `sacct`, then `scontrol show job` (slurmctld keeps finished jobs for MinJobAge),
 *   then `sacct -c` (jobcomp/filetxt clusters without accounting). A failed or empty query is
 *   "unknown, ask again", never "running" or "done": only a job that no query has known for a
 *   minute (and three polls) is reported ended, with exit class `unknown`.
 * - A requeue (`scontrol requeue`, preemption with requeue, `--requeue` after a node failure) keeps
 *   the job id: it is the same launch for the monitor, and its output is followed on.
 * - `stop` cancels the job (`scancel`, or `process.extra.cancel_command`): SLURM sends SIGTERM to
 *   the batch script and every step, waits its KillWait and kills what is left, and accounting says
 *   CANCELLED (not FAILED), as for a user's scancel. A job still there after `stop_grace_seconds`
 *   (KillWait longer than the grace) gets `scancel --signal=KILL --full`. A grace longer than the
 *   cluster's KillWait cannot be granted: SLURM kills at KillWait.
 * - The record carries the job id and the read positions of its output files; `adopt` follows the
 *   same job again from there (and reports its real ending if it finished meanwhile), so a monitor
 *   restart never submits a second job.
 *
 * Decision: stopping the monitor with SIGINT/SIGTERM cancels the job, as the decision table says for
 * every backend (like Nextflow or Snakemake cancelling their jobs on interrupt); SIGHUP (the
 * terminal went away) and SIGKILL leave it running, and the next `autosentry run` re-adopts it.
 */

import * as fs from "node:fs";
import type { ChildExit, Stream } from "../../core/types.ts";
import { type RunCommandResult, runCommand } from "../../util/run-command.ts";
import { type Follower, followFile } from "../../util/tail.ts";
import { deliverExit, firstLine, substitute as substituteIn } from "../backend-helpers.ts";
import type { ChildRecord, ExternalBackendOptions, LaunchSpec, StopReason, Supervisor } from "../types.ts";
import {
  classifyOutcome,
  type JobOutcome,
  normaliseState,
  parseSacct,
  parseSbatchOutput,
  parseScontrol,
  parseSqueue,
  scontrolOutcome,
  stateKind,
} from "./states.ts";
import { type BuildResult, buildSbatchArgv, outputFilesFromArgs } from "./submit.ts";

/** `env`/`cwd` are those of the scheduler queries; `pollIntervalMs` is how often squeue is asked
 * (`process.extra.poll_interval_seconds`; at least 1 s). */
export interface SlurmSupervisorOptions extends ExternalBackendOptions {
  /** `process.extra.log_pattern`: absolute path of the output file, `{job_id}` replaced. */
  logPattern?: string | undefined;
  statusCommand?: string[] | undefined;
  cancelCommand?: string[] | undefined;
  /** `process.extra.signal_scope`: which processes {@link SlurmSupervisor.signal} reaches. */
  signalScope?: "steps" | "batch" | "full" | undefined;
  sacctCommand?: string[] | undefined;
  /** How often the scheduler is asked while a stop waits for the job to end (default 1 s). */
  stopPollMs?: number;
  /** A job no query knows for this long (and 3 polls) is reported ended (default 60 s). */
  lostAfterMs?: number;
  /** Timeout of one scheduler command (default 60 s; sbatch 120 s). */
  commandTimeoutMs?: number;
  /** After the cancel, how long the job may take to end before the stop gives up waiting (default 120 s). */
  cancelWaitMs?: number;
}

/** One output file of the job. */
interface OutputFile {
  /** The path, or a pattern with `%N` until the job's node is known. */
  path: string;
  stream: Stream;
  follower: Follower | null;
  /** Start position for the follower (the file's state at submit, or the adopted record). */
  fromOffset: number;
  expectIno: number | undefined;
  ino: number;
  offset: number;
  /**
   * After a requeue (truncate mode): the file as the finished run left it. Following starts again
   * at 0 once the new run has rewritten it (another inode, smaller, or modified since).
   */
  rewrite: { ino: number; size: number; mtimeMs: number } | null;
}

interface Job {
  generation: number;
  jobId: string;
  startedAt: number;
  files: OutputFile[];
  lastState: string | null;
  /** A line was read since the job was last seen waiting (it has run since). */
  outputSincePending: boolean;
  /** `--open-mode`: a requeued run truncates its output files unless it is `append`. */
  openMode: "truncate" | "append";
  timer: ReturnType<typeof setTimeout> | null;
  polling: boolean;
  stopRequestedAt: number | null;
  stopping: boolean;
  finishing: boolean;
  delivered: boolean;
  detached: boolean;
  lostSince: number | null;
  lostPolls: number;
  unknownStreak: number;
  exited: Promise<void>;
  resolveExited: () => void;
}

/** What the scheduler says about a job right now. */
export type JobStatus =
  | { kind: "active"; state: string; reason: string | null }
  | { kind: "finished"; outcome: JobOutcome }
  | { kind: "unknown"; why: string }
  | { kind: "lost"; why: string };

const MIN_POLL_MS = 1000;

function substitute(argv: string[], jobId: string): string[] {
  return substituteIn(argv, "{job_id}", jobId);
}

/** `--open-mode` of the command line or the script (default truncate, as SLURM's JobFileAppend=0). */
function openModeOf(build: BuildResult): "truncate" | "append" {
  let mode: string | null = null;
  for (const o of [...build.directives, ...build.command.options]) if (o.name === "open-mode") mode = o.value;
  return mode === "append" ? "append" : "truncate";
}

/** First host of a SLURM node list: `node[03-05,9]` → `node03`, `a1,a2` → `a1`. */
export function firstNode(nodeList: string): string | null {
  const m = /^([^[,\s]+)(?:\[([^\]\-,]+))?/.exec(nodeList.trim());
  if (!m || m[1] === "(null)") return null;
  return m[1]! + (m[2] ?? "");
}

export class SlurmSupervisor implements Supervisor {
  readonly kind = "slurm" as const;
  readonly capabilities = { restart: true, stop: true };
  private cur: Job | null = null;
  private readonly pollMs: number;

  constructor(private readonly opts: SlurmSupervisorOptions) {
    this.pollMs = Math.max(MIN_POLL_MS, opts.pollIntervalMs);
  }

  private exec(argv: string[], timeoutMs?: number): Promise<RunCommandResult> {
    return runCommand(argv, {
      cwd: this.opts.cwd,
      env: this.opts.env,
      timeoutMs: timeoutMs ?? this.opts.commandTimeoutMs ?? 60_000,
      maxOutputBytes: 256 * 1024,
    });
  }

  async start(spec: LaunchSpec): Promise<ChildRecord> {
    const { logger } = this.opts;
    if (this.running()) {
      throw new Error(
        `Cannot submit generation ${spec.generation}: job ${this.cur!.jobId} is still being followed`,
      );
    }
    let build: BuildResult;
    try {
      build = buildSbatchArgv(spec.argv, spec.cwd, Object.keys(spec.envOverrides), spec.env);
    } catch (err) {
      throw new Error(`Cannot submit the job: ${(err as Error).message}`);
    }
    // Output files with a fixed name (no job id in it) may hold an earlier job's lines.
    const before = new Map<string, { ino: number; size: number; mtimeMs: number }>();
    for (const p of this.fixedOutputPaths(build, spec.cwd)) {
      try {
        const st = fs.statSync(p);
        before.set(p, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
      } catch {}
    }

    const res = await runCommand(build.argv, {
      cwd: spec.cwd,
      env: spec.env,
      timeoutMs: 120_000,
      maxOutputBytes: 256 * 1024,
    });
    if (res.error) throw new Error(`Cannot submit the job: ${res.error}`);
    if (res.timedOut) throw new Error(`Cannot submit the job: ${build.argv.join(" ")} timed out after 120 s`);
    if (res.exitCode !== 0) {
      const why = res.stderr.trim() || res.stdout.trim() || "no output";
      throw new Error(`Cannot submit the job: sbatch exited with code ${res.exitCode ?? res.signal}: ${why}`);
    }
    const jobId = parseSbatchOutput(res.stdout);
    if (jobId === null) {
      throw new Error(
        `Cannot submit the job: no job id in sbatch's output: ${res.stdout.trim() || "(empty)"}`,
      );
    }

    const files = await this.outputFiles(jobId, build, spec.cwd);
    const openMode = openModeOf(build);
    for (const f of files) {
      const b = before.get(f.path);
      if (b === undefined) continue;
      if (openMode === "append") {
        f.fromOffset = b.size;
        f.expectIno = b.ino;
        logger.info(`${f.path} already exists: following what the job appends to it`);
      } else {
        // The job truncates it when it starts: follow it from 0 once it has been rewritten.
        f.rewrite = b;
        logger.info(`${f.path} already exists: following it once the job has rewritten it`);
      }
    }
    const job = this.newJob(spec.generation, jobId, Date.now(), files);
    job.openMode = openMode;
    this.cur = job;
    this.startFollowers(job);
    this.schedulePoll(job, this.pollMs);
    logger.info(
      `Submitted generation ${spec.generation} as SLURM job ${jobId}: ${build.argv.join(" ")}; following ${files.map((f) => f.path).join(", ") || "no output file"}`,
    );
    return this.record()!;
  }

  /** Output paths that do not depend on the job id (known before submitting). */
  private fixedOutputPaths(build: BuildResult, cwd: string): string[] {
    const marker = "\u0000";
    if (this.opts.logPattern !== undefined) {
      return this.opts.logPattern.includes("{job_id}") ? [] : [this.opts.logPattern];
    }
    const f = outputFilesFromArgs(build, marker, cwd);
    return [f.stdout, f.stderr].filter((p): p is string => p !== null && !p.includes(marker));
  }

  /** The job's output files: log_pattern, else what scontrol says, else the command line. */
  private async outputFiles(jobId: string, build: BuildResult, cwd: string): Promise<OutputFile[]> {
    const file = (p: string, stream: Stream): OutputFile => ({
      path: p,
      stream,
      follower: null,
      fromOffset: 0,
      expectIno: undefined,
      ino: 0,
      offset: 0,
      rewrite: null,
    });
    if (this.opts.logPattern !== undefined)
      return [file(this.opts.logPattern.replaceAll("{job_id}", jobId), "log")];
    let out: string | null = null;
    let err: string | null = null;
    const sc = await this.exec(["scontrol", "show", "job", "-o", jobId]);
    if (sc.exitCode === 0) {
      const f = parseScontrol(sc.stdout);
      out = f["StdOut"] ?? null;
      err = f["StdErr"] ?? null;
    }
    if (!out) {
      const fromArgs = outputFilesFromArgs(build, jobId, cwd);
      out = fromArgs.stdout;
      err = fromArgs.stderr;
      if (sc.exitCode !== 0) {
        this.opts.logger.warn(
          `scontrol show job ${jobId} failed (${firstLine(sc)}); following ${out} as the command line says`,
        );
      }
    }
    const files: OutputFile[] = [];
    const same = err === null || err === out;
    if (out !== "/dev/null") files.push(file(out, same ? "log" : "stdout"));
    if (!same && err !== null && err !== "/dev/null") files.push(file(err, "stderr"));
    for (const f of files) {
      if (/%[0-9]*[nts]/.test(f.path)) {
        this.opts.logger.warn(
          `${f.path}: per-node or per-task file patterns (%n %t %s) are not expanded; set process.extra.log_pattern`,
        );
      }
    }
    return files;
  }

  private newJob(generation: number, jobId: string, startedAt: number, files: OutputFile[]): Job {
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => {
      resolveExited = r;
    });
    return {
      generation,
      jobId,
      startedAt,
      files,
      lastState: null,
      outputSincePending: false,
      openMode: "truncate",
      timer: null,
      polling: false,
      stopRequestedAt: null,
      stopping: false,
      finishing: false,
      delivered: false,
      detached: false,
      lostSince: null,
      lostPolls: 0,
      unknownStreak: 0,
      exited,
      resolveExited,
    };
  }

  private startFollowers(job: Job): void {
    for (const f of job.files) this.startFollower(job, f);
  }

  private startFollower(job: Job, f: OutputFile): void {
    if (f.follower !== null || f.rewrite !== null || f.path.includes("%N")) return;
    const { sink, logger } = this.opts;
    const gen = job.generation;
    f.follower = followFile(f.path, {
      fromOffset: f.fromOffset,
      ...(f.expectIno !== undefined ? { expectIno: f.expectIno } : {}),
      maxLineLength: this.opts.maxLineLength,
      onLine: (text) => {
        job.outputSincePending = true;
        try {
          sink.line(text, f.stream, gen);
        } catch (err) {
          logger.error(`Supervisor sink failed on a line of generation ${gen}: ${(err as Error).message}`);
        }
      },
      onError: (err) => logger.warn(`Reading ${f.path}: ${err.message}`),
    });
  }

  private schedulePoll(job: Job, delayMs: number): void {
    if (job.timer !== null) clearTimeout(job.timer);
    job.timer = setTimeout(() => {
      job.timer = null;
      void this.poll(job);
    }, delayMs);
  }

  /** One scheduled look at the job. */
  private async poll(job: Job): Promise<void> {
    if (job.delivered || job.detached || job.stopping || job.polling) return;
    job.polling = true;
    try {
      const st = await this.queryStatus(job.jobId);
      if (job.delivered || job.detached || job.stopping) return;
      await this.observe(job, st);
    } catch (err) {
      this.opts.logger.error(`Polling SLURM job ${job.jobId} failed: ${(err as Error).message}`);
    } finally {
      job.polling = false;
    }
    if (!job.delivered && !job.detached && !job.stopping && !job.finishing)
      this.schedulePoll(job, this.pollMs);
  }

  /** Act on a status: note transitions, finish a finished job, count unknowns. */
  private async observe(job: Job, st: JobStatus): Promise<void> {
    const { logger } = this.opts;
    if (st.kind !== "unknown" && job.unknownStreak > 0) {
      logger.info(`SLURM answers about job ${job.jobId} again (after ${job.unknownStreak} failed queries)`);
      job.unknownStreak = 0;
    }
    if (st.kind !== "lost") {
      job.lostSince = null;
      job.lostPolls = 0;
    }
    switch (st.kind) {
      case "active": {
        const was = job.lastState;
        const changed = st.state !== was;
        job.lastState = st.state;
        const reason = st.reason && st.reason !== "None" ? ` (${st.reason})` : "";
        const waiting = st.state === "PENDING" || st.state.startsWith("REQUEUE");
        // It ran since the last time it waited: seen running, or its output grew (between polls).
        const ran = was === "RUNNING" || was === "COMPLETING" || job.outputSincePending;
        if (waiting && ran && (changed || job.outputSincePending)) {
          logger.warn(
            `SLURM job ${job.jobId} was requeued${reason}: same job${job.openMode === "truncate" ? ", its output file starts over when it runs again" : ""}`,
          );
          if (job.openMode === "truncate") await this.holdForRewrite(job);
        } else if (changed) {
          logger.info(`SLURM job ${job.jobId}: ${st.state}${reason}`);
        }
        if (waiting) job.outputSincePending = false;
        if (changed && st.state === "RUNNING") await this.resolveNodePatterns(job);
        this.resumeRewritten(job);
        return;
      }
      case "finished":
        await this.finish(job, st.outcome);
        return;
      case "unknown":
        job.unknownStreak++;
        if (job.unknownStreak === 1 || job.unknownStreak % 20 === 0) {
          logger.warn(`Cannot tell the state of SLURM job ${job.jobId} (${st.why}); asking again`);
        }
        return;
      case "lost": {
        const now = Date.now();
        job.lostSince ??= now;
        job.lostPolls++;
        const lostAfter = this.opts.lostAfterMs ?? 60_000;
        if (job.lostPolls >= 3 && now - job.lostSince >= lostAfter) {
          await this.finish(job, null, `SLURM job ${job.jobId} is unknown to every query: ${st.why}`);
        } else if (job.lostPolls === 1) {
          logger.warn(`No query knows SLURM job ${job.jobId} (${st.why}); asking again before giving it up`);
        }
        return;
      }
    }
  }

  /**
   * The job was requeued and its next run truncates the output files: read what the last run left,
   * then wait for the rewrite. (Following on would miss the start of the new run if it outgrew the
   * old file before the truncation was noticed.)
   */
  private async holdForRewrite(job: Job): Promise<void> {
    for (const f of job.files) {
      if (f.follower === null) continue;
      await f.follower.stop(true);
      f.follower = null;
      try {
        const st = fs.statSync(f.path);
        f.rewrite = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
      } catch {
        f.rewrite = { ino: 0, size: 0, mtimeMs: 0 };
      }
    }
  }

  /** Follow held files from 0 once the new run has rewritten them. */
  private resumeRewritten(job: Job): void {
    for (const f of job.files) {
      const r = f.rewrite;
      if (r === null) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(f.path);
      } catch {
        continue;
      }
      if (st.ino === r.ino && st.size >= r.size && st.mtimeMs <= r.mtimeMs) continue;
      f.rewrite = null;
      f.fromOffset = 0;
      f.expectIno = undefined;
      this.startFollower(job, f);
    }
  }

  /** `%N` in an output path: fill in the job's first node once it runs. */
  private async resolveNodePatterns(job: Job): Promise<void> {
    if (!job.files.some((f) => f.path.includes("%N"))) return;
    const sc = await this.exec(["scontrol", "show", "job", "-o", job.jobId]);
    const node = sc.exitCode === 0 ? firstNode(parseScontrol(sc.stdout)["NodeList"] ?? "") : null;
    if (node === null) return;
    for (const f of job.files) {
      if (!f.path.includes("%N")) continue;
      f.path = f.path.replace(/%N/g, node);
      this.startFollower(job, f);
    }
  }

  /** Ask the scheduler about `jobId`; see the module comment for the order of the queries. */
  async queryStatus(jobId: string): Promise<JobStatus> {
    const statusCmd = this.opts.statusCommand
      ? substitute(this.opts.statusCommand, jobId)
      : ["squeue", "--noheader", "--states=all", `--jobs=${jobId}`, "--format=%T|%r"];
    const sq = await this.exec(statusCmd);
    let hint: string | null = null;
    if (sq.exitCode === 0) {
      const state = parseSqueue(sq.stdout);
      if (state !== null) {
        const kind = stateKind(state);
        if (kind === "active") {
          const line = sq.stdout.trim().split("\n")[0] ?? "";
          const reason = line.includes("|") ? (line.split("|")[1]?.trim() ?? null) : null;
          return { kind: "active", state, reason };
        }
        if (kind === "unknown") return { kind: "unknown", why: `squeue printed an unknown state '${state}'` };
        hint = state;
      }
    } else if (!/invalid job id/i.test(sq.output)) {
      return { kind: "unknown", why: `${statusCmd[0]} failed: ${firstLine(sq)}` };
    }

    const acct = await this.accounting(jobId);
    if (acct.outcome !== null) return { kind: "finished", outcome: acct.outcome };
    if (hint !== null) {
      // squeue showed the final state; no query gave the exit code.
      return { kind: "finished", outcome: { state: hint, exitCode: null, source: "squeue" } };
    }
    if (acct.active !== null && acct.activeSource === "scontrol") {
      return { kind: "active", state: acct.active, reason: null };
    }
    // slurmctld answered and does not know the job, and no accounting source has it finished (a
    // stale RUNNING row in the accounting database counts as nothing). Reported after a while.
    const why = [
      ...acct.failures,
      ...(acct.active !== null ? [`${acct.activeSource} still says ${acct.active}`] : []),
    ];
    return { kind: "lost", why: why.join("; ") || "no record of it" };
  }

  /** sacct, then scontrol show job, then sacct -c: the first terminal answer wins. */
  private async accounting(jobId: string): Promise<{
    outcome: JobOutcome | null;
    active: string | null;
    activeSource: string | null;
    failures: string[];
  }> {
    const failures: string[] = [];
    let active: string | null = null;
    let activeSource: string | null = null;
    const consider = (o: JobOutcome | undefined): JobOutcome | null => {
      if (o === undefined) return null;
      const k = stateKind(o.state);
      if (k === "terminal") return o;
      if (k === "active" && active === null) {
        active = o.state;
        activeSource = o.source;
      }
      return null;
    };

    const custom = this.opts.sacctCommand !== undefined;
    const sacctCmd = custom
      ? substitute(this.opts.sacctCommand!, jobId)
      : ["sacct", "-X", "-n", "-P", "-o", "JobID,State,ExitCode", "-j", jobId];
    const sa = await this.exec(sacctCmd);
    if (sa.exitCode === 0) {
      let rows = parseSacct(sa.stdout, jobId, "sacct");
      if (rows.length === 0 && custom) {
        const lines = sa.stdout.trim().split("\n").filter(Boolean);
        const last = lines[lines.length - 1];
        if (last !== undefined) rows = [{ state: normaliseState(last), exitCode: null, source: "sacct" }];
      }
      const got = consider(rows[rows.length - 1]);
      if (got !== null) return { outcome: got, active, activeSource, failures };
    } else {
      failures.push(`sacct: ${firstLine(sa)}`);
    }

    const sc = await this.exec(["scontrol", "show", "job", "-o", jobId]);
    if (sc.exitCode === 0) {
      const got = consider(scontrolOutcome(sc.stdout) ?? undefined);
      if (got !== null) return { outcome: got, active, activeSource, failures };
    } else {
      failures.push(`scontrol: ${firstLine(sc)}`);
    }

    const sc2 = await this.exec(["sacct", "-c", "-n", "-P", "-o", "JobID,State,ExitCode", "-j", jobId]);
    if (sc2.exitCode === 0) {
      const rows = parseSacct(sc2.stdout, jobId, "sacct -c");
      const got = consider(rows[rows.length - 1]);
      if (got !== null) return { outcome: got, active, activeSource, failures };
    } else {
      failures.push(`sacct -c: ${firstLine(sc2)}`);
    }
    return { outcome: null, active, activeSource, failures };
  }

  /** The job is over: read the rest of its output, then report the exit. */
  private async finish(job: Job, outcome: JobOutcome | null, lostWhy?: string): Promise<void> {
    if (job.finishing || job.delivered) return;
    job.finishing = true;
    if (job.timer !== null) clearTimeout(job.timer);
    job.timer = null;
    await this.resolveNodePatterns(job).catch(() => {});
    this.resumeRewritten(job);
    for (const f of job.files) {
      if (f.follower === null) continue;
      await f.follower.stop(true);
      const o = f.follower.offset();
      f.ino = o.ino;
      f.offset = o.offset;
    }
    if (job.detached) return;
    const stopped = job.stopRequestedAt !== null;
    let exit: ChildExit;
    if (outcome !== null) {
      const c = classifyOutcome(outcome, stopped);
      exit = {
        code: c.code,
        signal: c.signal,
        exitClass: c.exitClass,
        at: Date.now(),
        generation: job.generation,
        detail: `job ${job.jobId}: ${c.detail}`,
      };
    } else {
      exit = {
        code: null,
        signal: null,
        exitClass: stopped ? "stopped" : "unknown",
        at: Date.now(),
        generation: job.generation,
        detail: lostWhy ?? `job ${job.jobId}: ending unknown`,
      };
    }
    deliverExit(job, exit, this.opts.sink, this.opts.logger, `SLURM job ${job.jobId} ended: ${exit.detail}`);
  }

  async stop(reason: StopReason, graceSeconds: number): Promise<void> {
    const job = this.cur;
    if (job === null || job.delivered || job.detached) return;
    const { logger } = this.opts;
    job.stopRequestedAt ??= Date.now();
    job.stopping = true;
    if (job.timer !== null) clearTimeout(job.timer);
    job.timer = null;
    while (job.polling) await Bun.sleep(50);
    if (job.delivered) return;
    const stopPoll = this.opts.stopPollMs ?? 1000;

    const waitEnd = async (ms: number): Promise<boolean> => {
      const end = Date.now() + ms;
      for (;;) {
        const st = await this.queryStatus(job.jobId);
        if (st.kind === "finished") {
          await this.finish(job, st.outcome);
          return true;
        }
        if (st.kind === "active") job.lastState = st.state;
        if (Date.now() >= end) return false;
        await Bun.sleep(Math.min(stopPoll, Math.max(0, end - Date.now())));
      }
    };

    const first = await this.queryStatus(job.jobId);
    if (first.kind === "finished") {
      await this.finish(job, first.outcome);
      return;
    }
    // SLURM's own stop: SIGTERM to the batch script and every step, KillWait, SIGKILL; the job
    // ends CANCELLED in accounting, like a user's scancel.
    const cancel = this.opts.cancelCommand
      ? substitute(this.opts.cancelCommand, job.jobId)
      : ["scancel", job.jobId];
    logger.info(
      `Stopping generation ${job.generation} (${reason}): ${cancel.join(" ")}, grace ${graceSeconds}s`,
    );
    const res = await this.exec(cancel);
    if (res.exitCode !== 0) logger.warn(`${cancel.join(" ")}: ${firstLine(res)}`);
    // The grace, plus a little for the scheduler to notice and for slurmstepd to report.
    if (await waitEnd(Math.max(0, graceSeconds) * 1000 + 10_000)) return;
    if (this.opts.cancelCommand === undefined) {
      logger.warn(`SLURM job ${job.jobId} outlived its ${graceSeconds}s grace: scancel --signal=KILL --full`);
      const kill = await this.exec(["scancel", "--signal=KILL", "--full", job.jobId]);
      if (kill.exitCode !== 0) logger.warn(`scancel --signal=KILL ${job.jobId}: ${firstLine(kill)}`);
    }
    const waitMs = this.opts.cancelWaitMs ?? 120_000;
    if (await waitEnd(waitMs)) return;
    logger.error(`SLURM job ${job.jobId} did not end within ${waitMs / 1000}s of ${cancel.join(" ")}`);
    await this.finish(job, null, `job ${job.jobId}: still not ended after ${cancel.join(" ")}`);
  }

  /**
   * `process.resume.signal` before a deliberate stop: `scancel --signal=SIG` with the configured
   * scope. SLURM's default scope is the job's steps, not the batch script (a plain `scancel
   * --signal` to a job without srun steps succeeds and reaches nothing), so with scope `steps` a
   * job without steps is answered false at once and the stop goes on without waiting for a
   * checkpoint that cannot come; the warning names the two other scopes.
   */
  async signal(sig: NodeJS.Signals): Promise<boolean> {
    const job = this.cur;
    if (job === null || job.delivered || job.detached) return false;
    const { logger } = this.opts;
    const scope = this.opts.signalScope ?? "steps";
    if (scope === "steps") {
      const q = await this.exec(["squeue", "--steps", `--jobs=${job.jobId}`, "--noheader", "--format=%i"]);
      const steps = q.stdout
        .split("\n")
        .map((s) => s.trim())
        .filter((s) => s.startsWith(`${job.jobId}.`) && !/\.(batch|extern)$/.test(s));
      if (q.exitCode === 0 && steps.length === 0) {
        logger.warn(
          `${sig} not sent: SLURM job ${job.jobId} has no srun steps, and scancel --signal reaches only steps; set process.extra.signal_scope to batch (the script traps it) or full (the script and its children)`,
        );
        return false;
      }
    }
    const argv = [
      "scancel",
      `--signal=${sig.replace(/^SIG/, "")}`,
      ...(scope === "batch" ? ["--batch"] : scope === "full" ? ["--full"] : []),
      job.jobId,
    ];
    const r = await this.exec(argv);
    if (r.exitCode !== 0) {
      logger.warn(`${argv.join(" ")} failed: ${firstLine(r)}`);
      return false;
    }
    logger.info(`Sent ${sig} to SLURM job ${job.jobId} (${scope}): ${argv.join(" ")}`);
    return true;
  }

  async adopt(record: ChildRecord): Promise<boolean> {
    const { logger } = this.opts;
    if (record.kind !== "slurm") return false;
    if (this.running())
      throw new Error(`Cannot adopt generation ${record.generation}: a job is being followed`);
    const d = record.details;
    const jobId = typeof d["jobId"] === "string" ? d["jobId"] : null;
    if (jobId === null || !/^\d+$/.test(jobId)) {
      logger.warn(`Cannot adopt generation ${record.generation}: the record has no SLURM job id`);
      return false;
    }
    const files: OutputFile[] = [];
    const add = (p: unknown, stream: unknown, ino: unknown, offset: unknown): void => {
      if (typeof p !== "string" || p === "") return;
      const i = typeof ino === "number" ? ino : 0;
      files.push({
        path: p,
        stream: stream === "stdout" || stream === "stderr" ? stream : "log",
        follower: null,
        fromOffset: typeof offset === "number" ? offset : 0,
        expectIno: i > 0 ? i : undefined,
        ino: i,
        offset: typeof offset === "number" ? offset : 0,
        rewrite: null,
      });
    };
    add(d["out"], d["outStream"], d["outIno"], d["outOffset"]);
    add(d["err"], "stderr", d["errIno"], d["errOffset"]);
    const job = this.newJob(record.generation, jobId, record.startedAt, files);
    job.openMode = d["openMode"] === "append" ? "append" : "truncate";
    this.cur = job;
    this.startFollowers(job);
    // Look at once: the job may have ended while no monitor watched it.
    this.schedulePoll(job, 0);
    logger.info(
      `Adopted generation ${record.generation}: SLURM job ${jobId}; following ${files.map((f) => f.path).join(", ") || "no output file"}`,
    );
    return true;
  }

  async detach(): Promise<void> {
    const job = this.cur;
    if (job === null || job.delivered || job.detached) return;
    job.detached = true;
    if (job.timer !== null) clearTimeout(job.timer);
    job.timer = null;
    this.snapshotOffsets(job);
    for (const f of job.files) await f.follower?.stop();
    this.opts.logger.info(
      `Detached from generation ${job.generation}; SLURM job ${job.jobId} keeps running (\`scancel ${job.jobId}\` cancels it)`,
    );
  }

  private snapshotOffsets(job: Job): void {
    for (const f of job.files) {
      if (f.follower === null) continue;
      const o = f.follower.offset();
      if (o.ino !== 0) f.ino = o.ino;
      f.offset = o.offset;
    }
  }

  record(): ChildRecord | null {
    const job = this.cur;
    if (job === null || job.delivered) return null;
    if (!job.detached) this.snapshotOffsets(job);
    const out = job.files.find((f) => f.stream !== "stderr") ?? null;
    const err = job.files.find((f) => f.stream === "stderr") ?? null;
    return {
      kind: "slurm",
      generation: job.generation,
      pid: null,
      pgid: null,
      startedAt: job.startedAt,
      details: {
        jobId: job.jobId,
        state: job.lastState,
        openMode: job.openMode,
        out: out?.path ?? null,
        outStream: out?.stream ?? null,
        outIno: out?.ino ?? null,
        outOffset: out?.offset ?? null,
        err: err?.path ?? null,
        errIno: err?.ino ?? null,
        errOffset: err?.offset ?? null,
      },
      logPath: out?.path ?? err?.path ?? null,
      logOffset: out?.offset ?? err?.offset ?? 0,
    };
  }

  running(): boolean {
    const job = this.cur;
    return job !== null && !job.delivered && !job.detached;
  }

  /** The job id being followed (for tests and status). */
  jobId(): string | null {
    return this.running() ? this.cur!.jobId : null;
  }
}
