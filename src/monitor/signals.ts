/**
 * @module
 * The monitor's part for issue 11's signals: it starts and stops the samplers and probes
 * (src/signals/runtime.ts), writes metric series on the tick, ends a run whose work is done
 * (a completion marker, or a sentinel `.status` SUCCESS) and stops a child that then hangs in its
 * teardown, enforces `process.max_run_seconds`, adds the checkpoint to resume from at launch, and
 * gives the job a chance to checkpoint before a deliberate stop.
 *
 * Decisions worth knowing:
 * - After a completion, the child's generation is *done*: whatever it prints or however it exits
 *   afterwards (a crash in the NCCL teardown, exit 1 from a dataloader worker) is not a failure.
 *   It gets `completion.grace_seconds` to exit; then it is stopped and the run ends as a success.
 * - The checkpoint signal (`process.resume.signal`) is sent before a deliberate stop of a live
 *   child, except when the stop answers a metric or resource detection of that child: a NaN loss
 *   or a spike would be saved into the checkpoint the next run resumes from, and a full disk is
 *   exactly where a checkpoint write corrupts. Nor after a completion (nothing left to save).
 * - The first launch of a fresh run does not resume (a new run must not pick up an old
 *   experiment's checkpoints by surprise); every later launch, and a continued run, does.
 * - `max_run_seconds` applies to a single run, not to pipeline stages (they have
 *   `max_stage_seconds`); it stops the child and ends the monitor with exit 124 and exit class
 *   `max_run`.
 */
import type { ChildExit, Detection } from "../core/types.ts";
import type { ResumePoint, SignalRuntime } from "../signals/runtime.ts";
import type { ChildRecord } from "../supervisors/types.ts";
import { groupMembers, signalGroup } from "../util/proc.ts";
import { errMsg, type MonitorContext } from "./context.ts";

/** The monitor's exit code when a run passes max_run_seconds (as for a pipeline stage's deadline). */
const EXIT_MAX_RUN = 124;

interface Completion {
  generation: number;
  at: number;
  message: string;
  /** Seconds the child gets to exit by itself. */
  grace: number;
}

/** Grace after a completion that has no `completion.grace_seconds` of its own (a sentinel SUCCESS). */
const DEFAULT_COMPLETION_GRACE_SECONDS = 60;

export class Signals {
  private completion: Completion | null = null;
  /** Generations whose stop must not be preceded by a checkpoint signal (see the module comment). */
  private readonly noCheckpoint = new Set<number>();
  /** The generation stopped for passing max_run_seconds. */
  private maxRunGen: number | null = null;
  private stoppingForDeadline = false;
  private warnedNoGroup = false;

  constructor(
    private readonly m: MonitorContext,
    private readonly rt: SignalRuntime | null,
    /** 0 = off (and always off for pipeline stages). */
    private readonly maxRunSeconds: number,
    private readonly completionGraceSeconds: ReadonlyMap<string, number>,
  ) {}

  start(): void {
    this.rt?.start();
  }

  stop(): void {
    this.rt?.stop();
  }

  /** One line of the current child. */
  onLine(text: string): void {
    this.rt?.observeLine(text);
  }

  /** True when {@link onLine} needs every line as a string (the bytes ingest path is then off). */
  get wantsLines(): boolean {
    return this.rt?.wantsLines ?? false;
  }

  /**
   * A detection: true when it is consumed here (a completion; anything from a generation whose
   * work is already done), false when the episodes part should handle it.
   */
  onDetection(d: Detection): boolean {
    const m = this.m;
    if (this.completion !== null && this.completion.generation === d.generation) {
      if (d.kind !== "completion") {
        m.deps.journal.write("detection_ignored", {
          generation: d.generation,
          detector: d.detector,
          reason: "the work was already complete",
        });
      }
      return true;
    }
    if (d.detectorKind === "metric" || d.detectorKind === "resource") this.noCheckpoint.add(d.generation);
    if (d.kind !== "completion") return false;
    if (d.generation !== m.gen) return true;
    const grace = this.completionGraceSeconds.get(d.detector) ?? DEFAULT_COMPLETION_GRACE_SECONDS;
    this.completion = { generation: d.generation, at: d.at, message: d.message, grace };
    this.noCheckpoint.add(d.generation);
    m.log.info(
      `[${d.detector}] ${d.message}: the work is done; waiting up to ${grace}s for the child to exit`,
    );
    m.deps.journal.write("completion", {
      detector: d.detector,
      message: d.message,
      generation: d.generation,
    });
    // an episode of this child that was still gathering is moot now
    m.parts.episodes.take(d.generation);
    return true;
  }

  /** The exit as the monitor records it: after a completion it is a success. */
  recordedExit(exit: ChildExit): ChildExit {
    if (this.completion?.generation === exit.generation && exit.exitClass !== "success") {
      return {
        ...exit,
        exitClass: "success",
        code: 0,
        detail: `completed (${this.completion.message}); ended ${exit.exitClass}${exit.code !== null ? ` ${exit.code}` : ""}`,
      };
    }
    if (this.maxRunGen === exit.generation) return { ...exit, exitClass: "max_run" };
    return exit;
  }

  /** Write the metric points read so far under the current generation (before a new launch). */
  flushSeries(): void {
    this.rt?.tick(this.m.gen);
  }

  /** About once a second. */
  tick(now: number): void {
    const m = this.m;
    this.rt?.tick(m.gen);
    const c = this.completion;
    if (c !== null && c.generation === m.gen && m.childAlive) {
      const grace = c.grace;
      if (now - c.at >= grace * 1000 && !m.finishing) {
        this.completion = { ...c, at: Number.POSITIVE_INFINITY }; // once
        void m.serial(async () => {
          if (m.finishing || m.gen !== c.generation) return;
          m.log.warn(
            `the child did not exit ${grace}s after completing (hung in its teardown?): stopping it`,
          );
          m.deps.journal.write("completion_teardown_stop", {
            generation: c.generation,
            grace_seconds: grace,
          });
          await m.finish(
            0,
            `Completed (${c.message}); the child hung in its teardown and was stopped after ${grace}s`,
            "completed",
          );
        });
      }
    }
    const started = m.s.child_started_at;
    if (
      this.maxRunSeconds > 0 &&
      m.childAlive &&
      started &&
      !this.stoppingForDeadline &&
      this.completion?.generation !== m.gen
    ) {
      if (now - Date.parse(started) >= this.maxRunSeconds * 1000) {
        this.stoppingForDeadline = true;
        const g = m.gen;
        void m.serial(async () => {
          if (m.finishing || m.gen !== g || !m.childAlive) return;
          this.maxRunGen = g;
          m.log.log("ERROR", `the run passed process.max_run_seconds (${this.maxRunSeconds}s): stopping it`);
          m.deps.journal.write("max_run", { generation: g, seconds: this.maxRunSeconds });
          await m.finish(
            EXIT_MAX_RUN,
            `Run exceeded process.max_run_seconds (${this.maxRunSeconds}s)`,
            "stopped",
          );
        });
      }
    }
  }

  /** What a launch adds (resume env and arguments); never throws. */
  async launchExtras(why: string): Promise<{ env: Record<string, string>; args: string[] }> {
    const m = this.m;
    if (!this.rt) return { env: {}, args: [] };
    const resume = !(why === "initial start" && !m.deps.continuing);
    try {
      const x = await this.rt.launchExtras(resume);
      if (x.checkpoint) {
        m.log.info(
          `resuming from ${x.checkpoint.path}${x.checkpoint.step !== null ? ` (step ${x.checkpoint.step})` : ""}`,
        );
        m.deps.journal.write("resume_from", { checkpoint: x.checkpoint.path, step: x.checkpoint.step });
        m.s.resume = {
          checkpoint: x.checkpoint.path,
          step: x.checkpoint.step,
          last_step: m.s.resume?.last_step ?? null,
          steps_lost: m.s.resume?.steps_lost ?? null,
          at: new Date().toISOString(),
        };
        m.deps.state.changed();
      }
      return { env: x.env, args: x.args };
    } catch (err) {
      m.log.error(`Cannot look for a checkpoint to resume from: ${errMsg(err)}`);
      return { env: {}, args: [] };
    }
  }

  /** A child was launched. */
  childStarted(record: ChildRecord): void {
    this.stoppingForDeadline = false;
    // Only the current generation is ever looked up: a crash loop added one per restart (issue 16).
    for (const g of this.noCheckpoint) if (g < record.generation) this.noCheckpoint.delete(g);
    if (this.completion && this.completion.generation !== record.generation) this.completion = null;
    this.rt?.setChild({ generation: record.generation, pid: record.pid, startedAt: record.startedAt });
  }

  /** The current child is gone. */
  childGone(): void {
    this.rt?.setChild(null);
  }

  /** Where the next run resumes (for an incident and state.json), or undefined without process.resume. */
  async resumePoint(): Promise<ResumePoint | undefined> {
    if (!this.rt) return undefined;
    try {
      const p = await this.rt.resumePoint();
      if (p === null) return undefined;
      this.m.s.resume = { ...p, at: new Date().toISOString() };
      this.m.deps.state.changed();
      return p;
    } catch (err) {
      this.m.log.error(`Cannot look for the checkpoint to resume from: ${errMsg(err)}`);
      return undefined;
    }
  }

  /** Before a deliberate stop of the live child: the checkpoint signal, and the wait for it. */
  async beforeStop(): Promise<void> {
    const m = this.m;
    if (!this.rt || !m.childAlive || this.noCheckpoint.has(m.gen)) return;
    const rec = m.sup.record();
    const pgid = rec?.pgid ?? null;
    let send: (sig: NodeJS.Signals) => boolean | Promise<boolean>;
    if (pgid !== null && pgid > 1) {
      // The local backend's group is led by the capture shim: the signal is for the job, not for it.
      const shim = rec?.details["shimPid"] === pgid ? pgid : null;
      send = (sig) => {
        try {
          if (shim === null) return signalGroup(pgid, sig);
          let sent = false;
          for (const pid of groupMembers(pgid)) {
            if (pid === shim) continue;
            try {
              process.kill(pid, sig);
              sent = true;
            } catch {
              // gone meanwhile
            }
          }
          return sent;
        } catch {
          return false;
        }
      };
    } else if (m.sup.signal) {
      // slurm and docker: the backend delivers it (scancel --signal, docker kill --signal).
      const sup = m.sup;
      send = (sig) => sup.signal!(sig).catch(() => false);
    } else {
      if (!this.warnedNoGroup) {
        this.warnedNoGroup = true;
        m.log.warn(
          `process.resume.signal: the ${m.sup.kind} backend gives no process group to signal; stopping without it`,
        );
      }
      return;
    }
    const r = await this.rt.checkpointBeforeStop(send);
    if (!r.sent) return;
    if (r.checkpoint) {
      m.log.info(`checkpoint written before the stop: ${r.checkpoint.path}`);
      m.deps.journal.write("checkpoint_before_stop", {
        checkpoint: r.checkpoint.path,
        step: r.checkpoint.step,
      });
    } else {
      m.log.warn("no new checkpoint appeared after the checkpoint signal; stopping anyway");
      m.deps.journal.write("checkpoint_before_stop", { checkpoint: null, step: null });
    }
  }
}
