/**
 * @module
 * The pipeline controller (`autosentry run` with `process.stages`): runs the stages in order, each
 * under its own in-process {@link Monitor} built from a stage-scoped copy of the config, and keeps
 * the run's record (`pipeline.json`), journal and evidence folders (inventory §4.11).
 *
 * - The caller holds the project lock for the whole pipeline; stage monitors never take it.
 * - Every stage begins a fresh monitor run tagged with the pipeline id and the stage, and shares
 *   the project's state.json (so `status`, `pause`, `resume` and `abort` work as for one process)
 *   and incidents folder (so `incidents` lists the whole project); the stage's logs, journal,
 *   launch.json, a final state.json copy and copies of its incidents' report.md go to
 *   `runs/<id>/stages/<name>/`.
 * - A stage past its deadline is stopped (exit 124). If its monitor is busy with a decision and
 *   the child still runs `stop_grace_seconds + stage_stop_grace_seconds` later, the controller
 *   kills the child's process group itself, so the deadline holds.
 * - A stage whose preflight fails is not launched (exit 126).
 * - SIGINT/SIGTERM/SIGHUP stop the current stage (the stage monitor stops its child on the same
 *   signal; after SIGHUP, which makes a monitor detach, the controller stops the child itself:
 *   a pipeline never leaves a stage running unsupervised), record the run as interrupted so that
 *   `run --resume` continues it, and exit 128+N.
 * - A controller that died (SIGKILL, power loss) leaves a `running` record and possibly a stage's
 *   child: the next pipeline run marks that record interrupted and stops that child first.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import type { StageSpec } from "../config/schema.ts";
import { ledgerPath } from "../fixes/ledger.ts";
import { Journal } from "../journal/journal.ts";
import { type BuiltMonitor, buildMonitor } from "../monitor/build.ts";
import {
  emptyState,
  type MonitorState,
  type Phase,
  readState,
  TERMINAL_PHASES,
  tagStage,
} from "../monitor/state.ts";
import type { ChildRecord } from "../supervisors/types.ts";
import { writeFileAtomicSync, writeJsonAtomicSync } from "../util/atomic-write.ts";
import { FileLogger } from "../util/logger.ts";
import { groupMembers, killGroupGracefully, readProcStat, signalNumber } from "../util/proc.ts";
import { type Plan, PlanError, planRun } from "./plan.ts";
import {
  type PipelineLayout,
  type PipelineRecord,
  pipelineLayout,
  readLatestRun,
  type StageRecord,
  writePipelineRecord,
} from "./record.ts";
import { launchRecord, stageConfig, stageFingerprint, stagePreflight } from "./stage-config.ts";

export { PlanError } from "./plan.ts";

export interface PipelineRunOptions {
  resume?: boolean | undefined;
  fromStage?: string | undefined;
  version: string;
  /** The environment stages inherit (default process.env). */
  env?: Record<string, string | undefined>;
}

/** Exit codes of a pipeline (besides a failed stage's own code). */
export const PIPELINE_EXIT = { deadline: 124, preflight: 126 } as const;

/** The `.autosentry` directory of a loaded config (where state.json, pipeline.json and runs/ live). */
export function autosentryDirOf(cfg: LoadedConfig): string {
  return path.dirname(cfg.data.state_path);
}

/**
 * Run the configured pipeline; resolves with the exit code. The caller holds the project lock.
 * Throws {@link PlanError} (a usage error) when `--resume`/`--from-stage` cannot be honoured.
 */
export function runPipeline(cfg: LoadedConfig, opts: PipelineRunOptions): Promise<number> {
  return new PipelineRunner(cfg, opts).run();
}

function newRunId(): string {
  return crypto.randomUUID().replace(/-/g, "");
}

function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function fmtSeconds(s: number): string {
  return Number.isInteger(s) ? String(s) : String(Number(s.toFixed(3)));
}

function listDirs(dir: string): Set<string> {
  try {
    return new Set(
      fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name),
    );
  } catch {
    return new Set();
  }
}

function readStateQuiet(file: string): MonitorState | null {
  try {
    return readState(file);
  } catch {
    return null;
  }
}

/**
 * Stop what is left of a local child's process group (a stage monitor that detached, or one whose
 * controller died). The group is the capture shim's; it is only signalled when the shim's pid is
 * gone or still the same process (its /proc start time), never a stranger that reused the pid.
 * Returns a problem to record, or null.
 */
async function stopLeftoverGroup(child: ChildRecord, graceSeconds: number): Promise<string | null> {
  if (child.kind !== "local") return null;
  const d = child.details;
  const pgid = typeof d.shimPid === "number" ? d.shimPid : child.pgid;
  if (pgid === null || pgid <= 1) return null;
  const st = readProcStat(pgid);
  const shimStart = typeof d.shimStart === "string" ? d.shimStart : null;
  const reused = st !== null && st.state !== "Z" && shimStart !== null && st.startTime !== shimStart;
  if (reused || groupMembers(pgid).length === 0) return null;
  const res = await killGroupGracefully(pgid, graceSeconds * 1000);
  return res.survivors.length > 0
    ? `processes of group ${pgid} survived SIGKILL: ${res.survivors.join(", ")}`
    : null;
}

/**
 * Live capture shims (`autosentry __shim … --log FILE …`) leading their own process group whose
 * FILE is under `dir`.
 */
function shimsLoggingUnder(dir: string): Array<{ pid: number; log: string }> {
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  const out: Array<{ pid: number; log: string }> = [];
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    const shim = args.indexOf("__shim");
    if (shim < 0) continue;
    const end = args.indexOf("--", shim);
    const at = args.indexOf("--log", shim);
    const log = at > 0 && (end < 0 || at < end) ? args[at + 1] : undefined;
    if (!log?.startsWith(prefix)) continue;
    const st = readProcStat(pid);
    if (st && st.pgrp === pid && st.state !== "Z") out.push({ pid, log });
  }
  return out;
}

class PipelineRunner {
  private readonly stages: StageSpec[];
  private readonly layout: PipelineLayout;
  private readonly env: Record<string, string | undefined>;
  private logger!: FileLogger;
  private rec!: PipelineRecord;
  private runJournal!: Journal;
  private interrupted: { signal: NodeJS.Signals; code: number } | null = null;
  private handlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(
    private readonly cfg: LoadedConfig,
    private readonly opts: PipelineRunOptions,
  ) {
    this.stages = cfg.data.process.stages;
    this.layout = pipelineLayout(autosentryDirOf(cfg));
    this.env = opts.env ?? process.env;
  }

  async run(): Promise<number> {
    const c = this.cfg.data;
    const resuming = Boolean(this.opts.resume) || this.opts.fromStage !== undefined;
    let prior: PipelineRecord | null = null;
    let priorProblem: string | null = null;
    try {
      prior = readLatestRun(this.layout.dir);
    } catch (err) {
      if (resuming) throw new PlanError(`Cannot resume: ${errMsg(err)}`);
      priorProblem = errMsg(err);
    }
    if (prior?.status === "running") this.markAbandoned(prior);
    const fingerprints = this.stages.map((s) => stageFingerprint(c.process, s));
    const plan = planRun({
      stages: this.stages.map((s, i) => ({ name: s.name, fingerprint: fingerprints[i]! })),
      prior,
      resume: Boolean(this.opts.resume),
      fromStage: this.opts.fromStage,
    });
    if (plan.kind === "nothing") {
      process.stdout.write(`${plan.message}\n`);
      return 0;
    }
    // From here on a signal interrupts the run (recorded, so --resume continues it).
    this.installSignalHandlers();
    try {
      return await this.execute(plan, fingerprints, prior, priorProblem);
    } finally {
      for (const [sig, h] of this.handlers) process.off(sig, h);
    }
  }

  private async execute(
    plan: Extract<Plan, { kind: "run" }>,
    fingerprints: string[],
    prior: PipelineRecord | null,
    priorProblem: string | null,
  ): Promise<number> {
    const c = this.cfg.data;
    const resuming = Boolean(this.opts.resume) || this.opts.fromStage !== undefined;

    const runId = newRunId();
    fs.mkdirSync(this.layout.runDir(runId), { recursive: true });
    this.logger = new FileLogger(this.layout.runLog(runId));
    this.runJournal = new Journal(this.layout.runJournal(runId), {
      runId,
      onError: (m) => this.logger.error(m),
    });
    if (priorProblem) this.logger.warn(`${priorProblem}; starting a new pipeline run`);
    if (!resuming && prior && prior.status === "interrupted") {
      this.logger.info(
        `the previous pipeline run ${prior.pipeline_id} was interrupted at stage '${prior.current_stage ?? "?"}'; starting over (\`autosentry run --resume\` would continue it)`,
      );
    }
    await this.stopLeftoverChild();

    this.rec = {
      schema_version: 2,
      pipeline_id: runId,
      parent_run_id: plan.parentRunId,
      started_at: new Date().toISOString(),
      ended_at: null,
      status: "running",
      current_stage: null,
      exit_code: null,
      reason: null,
      controller_pid: process.pid,
      stages: this.stages.map(
        (s, i): StageRecord =>
          plan.reused[i] ?? {
            name: s.name,
            status: "pending",
            started_at: null,
            ended_at: null,
            exit_code: null,
            final_restarts: 0,
            reason: null,
            fingerprint: fingerprints[i]!,
            evidence_dir: null,
            cleanup_errors: [],
            reused_from: null,
          },
      ),
    };
    this.save();
    const names = this.stages.map((s) => s.name);
    this.runJournal.write("pipeline_started", {
      parent_run_id: plan.parentRunId,
      resume: Boolean(this.opts.resume),
      from_stage: this.opts.fromStage ?? null,
      start_stage: names[plan.start],
      stages: names,
      controller_pid: process.pid,
    });
    this.logger.info(
      `pipeline run ${runId}: ${names.length} stage(s) (${names.join(" → ")})${plan.start > 0 ? `, starting at '${names[plan.start]}'` : ""}`,
    );
    for (const r of plan.reused) {
      new Journal(this.layout.runJournal(runId), { runId, stage: r.name }).write("stage_reused", {
        from_run_id: r.reused_from,
        evidence_dir: r.evidence_dir,
        fingerprint: r.fingerprint,
      });
      this.logger.info(`stage '${r.name}': completed in run ${r.reused_from}; not run again`);
    }

    // Later stages are checked again right before they start (an earlier stage may install what
    // they need); a problem visible now is worth knowing before hours of earlier stages.
    for (let i = plan.start + 1; i < this.stages.length; i++) {
      const s = this.stages[i]!;
      for (const e of stagePreflight(c.process, s, this.env)) {
        this.logger.warn(
          `stage '${s.name}' could not launch as things are now (checked again before it starts): ${e}`,
        );
      }
    }

    let failed: StageRecord | null = null;
    let lastPhase: Phase = "completed";
    for (let i = plan.start; i < this.stages.length; i++) {
      if (this.interrupted) break;
      const out = await this.runStage(i);
      lastPhase = out.phase;
      const sr = this.rec.stages[i]!;
      if (sr.status === "failed") {
        failed = sr;
        break;
      }
      if (sr.status !== "complete") break;
    }
    return this.finishRun(failed, lastPhase);
  }

  /** A previous controller died while its run was `running`: record that (we hold the lock). */
  private markAbandoned(prior: PipelineRecord): void {
    const r = structuredClone(prior);
    r.status = "interrupted";
    r.reason = `The pipeline controller (pid ${r.controller_pid ?? "?"}) stopped without finishing the run`;
    for (const s of r.stages) {
      if (s.status === "running") {
        s.status = "interrupted";
        s.reason = "The pipeline controller stopped during this stage";
      }
    }
    try {
      writeJsonAtomicSync(this.layout.runRecord(r.pipeline_id), r);
      writeJsonAtomicSync(this.layout.latest, r);
      Object.assign(prior, r);
    } catch {
      // The record stays `running`; planning treats a running stage like an interrupted one.
    }
  }

  /**
   * Stages' children left running by a controller that died: stop them before anything starts.
   * They are found two ways, because a controller killed right after a launch may not have
   * persisted the child yet: the child record in state.json, and any capture shim whose process.log
   * is in this project's `runs/` (we hold the lock, so no live controller owns one).
   */
  private async stopLeftoverChild(): Promise<void> {
    const st = readStateQuiet(this.cfg.data.state_path);
    const live = st?.child && !TERMINAL_PHASES.has(st.phase) ? st.child : null;
    if (live && st?.stage === null) {
      this.logger.warn(
        `state.json records a child (pid ${live.pid ?? "?"}) of an earlier single-process run; it is not stopped and no longer tracked`,
      );
    }
    const grace = this.cfg.data.process.stop_grace_seconds;
    const done = new Set<number>();
    if (live && st?.stage) {
      this.logger.warn(
        `stopping stage '${st.stage}''s child (pid ${live.pid ?? "?"}) left running by an earlier pipeline controller`,
      );
      const problem = await stopLeftoverGroup(live, grace);
      if (problem) this.logger.error(problem);
      if (typeof live.details.shimPid === "number") done.add(live.details.shimPid);
    }
    for (const shim of shimsLoggingUnder(this.layout.runs)) {
      if (done.has(shim.pid)) continue;
      this.logger.warn(
        `stopping a stage's child left running by an earlier pipeline controller (capture shim ${shim.pid}, ${shim.log})`,
      );
      const res = await killGroupGracefully(shim.pid, grace * 1000);
      if (res.survivors.length > 0) {
        this.logger.error(`processes of group ${shim.pid} survived SIGKILL: ${res.survivors.join(", ")}`);
      }
    }
  }

  private save(): void {
    try {
      writePipelineRecord(this.layout, this.rec);
    } catch (err) {
      this.logger.error(`Cannot write the pipeline record: ${errMsg(err)}`);
    }
  }

  /** The signal that interrupted the run (read through a method: it changes across awaits). */
  private interruption(): { signal: NodeJS.Signals; code: number } | null {
    return this.interrupted;
  }

  private installSignalHandlers(): void {
    const on = (sig: NodeJS.Signals) => () => {
      if (this.interrupted) return; // a second signal: the stage monitor handles it (no grace)
      this.interrupted = { signal: sig, code: 128 + (signalNumber(sig) ?? 0) };
      this.logger.info(`${sig} received: stopping the pipeline (\`autosentry run --resume\` continues it)`);
    };
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as NodeJS.Signals[]) {
      const h = on(sig);
      process.on(sig, h);
      this.handlers.push([sig, h]);
    }
  }

  /** Run stage `i` to its end; updates its record. */
  private async runStage(i: number): Promise<{ phase: Phase }> {
    const c = this.cfg.data;
    const spec = this.stages[i]!;
    const sr = this.rec.stages[i]!;
    const runId = this.rec.pipeline_id;
    const count = this.stages.length;
    const evidence = this.layout.stageDir(runId, spec.name);
    fs.mkdirSync(evidence, { recursive: true });
    const journal = new Journal(this.layout.runJournal(runId), {
      runId,
      stage: spec.name,
      onError: (m) => this.logger.error(m),
    });
    sr.status = "running";
    sr.started_at = new Date().toISOString();
    sr.evidence_dir = evidence;
    this.rec.current_stage = spec.name;
    this.save();
    const scoped = stageConfig(this.cfg, spec, evidence);
    const maxSeconds = scoped.data.process.max_stage_seconds;
    journal.write("stage_started", {
      index: i + 1,
      count,
      evidence_dir: evidence,
      max_stage_seconds: maxSeconds,
      prior_restarts: readStateQuiet(c.state_path)?.restarts_total ?? 0,
    });
    this.logger.info(
      `stage ${i + 1}/${count} '${spec.name}' starting: ${JSON.stringify(scoped.data.process.command)}${maxSeconds > 0 ? ` (deadline ${fmtSeconds(maxSeconds)}s)` : ""}`,
    );

    const errors = stagePreflight(c.process, spec, this.env);
    try {
      writeJsonAtomicSync(
        path.join(evidence, "launch.json"),
        launchRecord(
          this.cfg,
          spec,
          { index: i, count, runId, fingerprint: sr.fingerprint, preflightErrors: errors },
          this.env,
        ),
      );
    } catch (err) {
      this.logger.error(`Cannot write launch.json: ${errMsg(err)}`);
    }
    journal.write("preflight", { errors });

    const end = (
      status: StageRecord["status"],
      code: number,
      reason: string,
      phase: Phase,
      restarts = 0,
    ): { phase: Phase } => {
      sr.status = status;
      sr.exit_code = code;
      sr.reason = reason;
      sr.final_restarts = restarts;
      sr.ended_at = new Date().toISOString();
      journal.write("stage_finished", {
        status,
        exit_code: code,
        reason,
        restarts,
        cleanup_errors: sr.cleanup_errors,
      });
      const level = status === "complete" ? "INFO" : "ERROR";
      this.logger.log(level, `stage ${i + 1}/${count} '${spec.name}' ${status} (exit ${code}): ${reason}`);
      this.save();
      return { phase };
    };

    if (errors.length > 0) {
      for (const e of errors) {
        this.logger.error(`stage '${spec.name}': ${e}`);
        process.stderr.write(`stage '${spec.name}': ${e}\n`);
      }
      return end(
        "failed",
        PIPELINE_EXIT.preflight,
        `Preflight failed; nothing was launched: ${errors.join("; ")}`,
        "stopped",
      );
    }
    if (this.interrupted) {
      const { signal, code } = this.interrupted;
      return end("interrupted", code, `Interrupted by ${signal} before launch`, "stopped");
    }

    const incidentsBefore = listDirs(c.incidents_dir);
    let built: BuiltMonitor;
    try {
      built = buildMonitor(scoped, this.opts.version, {
        stage: { runId, name: spec.name, index: i, count },
      });
    } catch (err) {
      return end("failed", 1, `Cannot start the stage's monitor: ${errMsg(err)}`, "gave_up");
    }
    const restartsBefore = built.state.state.restarts_total;
    // No await between the interruption check above and run(): run() installs the monitor's
    // own signal handlers synchronously, so no signal can fall between the two.
    const done = built.monitor.run();
    let deadlineHit = false;
    let backstop: ReturnType<typeof setTimeout> | null = null;
    const graceAfterDeadline = c.process.stop_grace_seconds + c.process.stage_stop_grace_seconds;
    const deadline =
      maxSeconds > 0
        ? setTimeout(() => {
            deadlineHit = true;
            const reason = `Stage deadline exceeded (${fmtSeconds(maxSeconds)} seconds)`;
            this.logger.warn(`stage '${spec.name}': ${reason}; stopping it`);
            void built.monitor.requestStop(PIPELINE_EXIT.deadline, reason);
            backstop = setTimeout(() => {
              const child = built.state.state.child;
              if (!child) return;
              const note = `the stage's monitor had not stopped its child ${fmtSeconds(graceAfterDeadline)}s after the deadline; the controller killed the child's process group`;
              this.logger.warn(`stage '${spec.name}': ${note}`);
              sr.cleanup_errors.push(note);
              void stopLeftoverGroup(child, 0).then((p) => {
                if (p) sr.cleanup_errors.push(p);
              });
            }, graceAfterDeadline * 1000);
          }, maxSeconds * 1000)
        : null;
    let code: number;
    try {
      code = await done;
    } finally {
      if (deadline) clearTimeout(deadline);
      if (backstop) clearTimeout(backstop);
      built.logger.close();
    }
    const st = built.state.state;
    const restarts = st.restarts_total - restartsBefore;
    if (st.child) {
      // The monitor detached (SIGHUP) or could not stop its child: a pipeline leaves nothing behind.
      this.logger.warn(`stage '${spec.name}': stopping its child (pid ${st.child.pid ?? "?"})`);
      const problem = await stopLeftoverGroup(st.child, c.process.stop_grace_seconds);
      if (problem) sr.cleanup_errors.push(problem);
      st.child = null;
      st.child_running = false;
      if (st.phase === "detached") st.phase = "stopped";
      try {
        writeJsonAtomicSync(c.state_path, st);
      } catch (err) {
        sr.cleanup_errors.push(`Cannot update state.json: ${errMsg(err)}`);
      }
    }
    this.collectEvidence(evidence, incidentsBefore);
    const reason = st.stop_reason ?? `Stage monitor ended with exit ${code}`;
    const phase = st.phase;
    if (deadlineHit && code === PIPELINE_EXIT.deadline) return end("failed", code, reason, phase, restarts);
    const intr = this.interruption();
    if (intr && code === intr.code) {
      return end("interrupted", code, `Interrupted by ${intr.signal}`, "stopped", restarts);
    }
    if (code === 0) return end("complete", 0, reason, phase, restarts);
    return end("failed", code, reason, phase, restarts);
  }

  /** Copy the stage's final state.json, the attempts ledger and its incidents' reports into its evidence. */
  private collectEvidence(evidence: string, incidentsBefore: Set<string>): void {
    const c = this.cfg.data;
    const copy = (from: string, to: string) => {
      try {
        if (!fs.existsSync(from)) return;
        writeFileAtomicSync(to, fs.readFileSync(from));
      } catch (err) {
        this.logger.error(`Cannot copy ${from} into the stage's evidence: ${errMsg(err)}`);
      }
    };
    copy(c.state_path, path.join(evidence, "state.json"));
    copy(ledgerPath(this.cfg.root), path.join(evidence, "attempts.tsv"));
    for (const id of listDirs(c.incidents_dir)) {
      if (incidentsBefore.has(id)) continue;
      copy(path.join(c.incidents_dir, id, "report.md"), path.join(evidence, "incidents", id, "report.md"));
    }
  }

  private finishRun(failed: StageRecord | null, lastPhase: Phase): number {
    const rec = this.rec;
    const intr = this.interrupted;
    const stoppedAt = rec.stages.find((s) => s.status === "interrupted");
    let code: number;
    if (failed) {
      rec.status = "failed";
      code = failed.exit_code ?? 1;
      rec.reason = `Stage '${failed.name}' failed: ${failed.reason ?? `exit ${code}`}`;
      for (const s of rec.stages) if (s.status === "pending") s.status = "skipped";
    } else if (intr || stoppedAt) {
      rec.status = "interrupted";
      code = stoppedAt?.exit_code ?? intr?.code ?? 130;
      const where = stoppedAt
        ? `during stage '${stoppedAt.name}'`
        : `before stage '${rec.stages.find((s) => s.status === "pending")?.name ?? "?"}'`;
      rec.reason = `Pipeline interrupted by ${intr?.signal ?? "a signal"} ${where}`;
    } else {
      rec.status = "complete";
      code = 0;
      rec.reason = "Pipeline completed successfully";
    }
    rec.exit_code = code;
    rec.ended_at = new Date().toISOString();
    rec.current_stage = null;
    this.save();
    this.runJournal.write("pipeline_finished", { status: rec.status, exit_code: code, reason: rec.reason });
    this.finalState(rec, code, lastPhase);
    const summary = `pipeline run ${rec.pipeline_id} ${rec.status} (exit ${code}): ${rec.reason}`;
    if (rec.status === "complete") this.logger.info(summary);
    else this.logger.error(summary);
    this.logger.close();
    return code;
  }

  /** state.json after the pipeline: the pipeline's outcome, no current stage. */
  private finalState(rec: PipelineRecord, code: number, lastPhase: Phase): void {
    const file = this.cfg.data.state_path;
    const st = readStateQuiet(file) ?? emptyState();
    st.run_id = rec.pipeline_id;
    st.phase =
      rec.status === "complete"
        ? "completed"
        : rec.status === "interrupted" || !TERMINAL_PHASES.has(lastPhase)
          ? "stopped"
          : lastPhase;
    st.stop_reason = rec.reason;
    st.exit_code = code;
    tagStage(st, null);
    st.child = null;
    st.child_running = false;
    try {
      writeJsonAtomicSync(file, st);
    } catch (err) {
      this.logger.error(`Cannot write ${file}: ${errMsg(err)}`);
    }
  }
}
