/**
 * @module
 * The pipeline run record (`pipeline.json`, schema_version 2, inventory §4.11) and where a
 * pipeline's files live. The controller writes the record atomically twice: into the run's own
 * folder (`.autosentry/runs/<id>/pipeline.json`, kept) and as the latest pointer
 * (`.autosentry/pipeline.json`, replaced by every run).
 *
 * This is also the read side for other commands (`status`, `explain`): {@link pipelineLayout},
 * {@link readLatestRun}, {@link readRun}, {@link listRuns} and {@link stageEvidence}.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeJsonAtomicSync } from "../util/atomic-write.ts";

export type PipelineStatus = "running" | "complete" | "failed" | "interrupted";

/**
 * `skipped`: not run because an earlier stage failed. A stage taken over from an earlier run by
 * `--resume`/`--from-stage` is `complete` with `reused_from` set.
 */
export type StageStatus = "pending" | "running" | "complete" | "failed" | "skipped" | "interrupted";

export interface StageRecord {
  name: string;
  status: StageStatus;
  started_at: string | null;
  ended_at: string | null;
  exit_code: number | null;
  /** Restarts the stage's monitor made during this stage. */
  final_restarts: number;
  /** Why the stage ended (the stage monitor's stop reason, the deadline, the preflight problem). */
  reason: string | null;
  /** SHA-256 (hex) of the stage's scoped process config; see stage-config.ts. */
  fingerprint: string;
  /** Absolute path of the stage's evidence folder (an earlier run's folder when reused). */
  evidence_dir: string | null;
  /** Problems met while cleaning up after the stage (a child group that would not die, …). */
  cleanup_errors: string[];
  /** The run whose result this stage reuses (resume / from-stage), else null. */
  reused_from: string | null;
}

export interface PipelineRecord {
  schema_version: 2;
  /** 32 lowercase hex characters. */
  pipeline_id: string;
  /** The run this one resumes (`--resume`, `--from-stage`), else null. */
  parent_run_id: string | null;
  started_at: string;
  ended_at: string | null;
  status: PipelineStatus;
  current_stage: string | null;
  /** The pipeline's exit code once it ended. */
  exit_code: number | null;
  /** Why the pipeline ended. */
  reason: string | null;
  /** The controller's pid (a `running` record whose controller is gone was interrupted). */
  controller_pid: number | null;
  stages: StageRecord[];
}

/** Where a project's pipeline files are, given its `.autosentry` directory (dirname of state_path). */
export interface PipelineLayout {
  dir: string;
  /** The latest pointer: a copy of the newest run's record. */
  latest: string;
  runs: string;
  runDir(runId: string): string;
  runRecord(runId: string): string;
  /** The run's own journal (pipeline events). */
  runJournal(runId: string): string;
  /** The controller's log. */
  runLog(runId: string): string;
  stageDir(runId: string, stage: string): string;
}

export function pipelineLayout(autosentryDir: string): PipelineLayout {
  const runs = path.join(autosentryDir, "runs");
  const runDir = (id: string) => path.join(runs, id);
  return {
    dir: autosentryDir,
    latest: path.join(autosentryDir, "pipeline.json"),
    runs,
    runDir,
    runRecord: (id) => path.join(runDir(id), "pipeline.json"),
    runJournal: (id) => path.join(runDir(id), "events.jsonl"),
    runLog: (id) => path.join(runDir(id), "autosentry.log"),
    stageDir: (id, stage) => path.join(runDir(id), "stages", stage),
  };
}

const RUN_ID = /^[0-9a-f]{32}$/;

/** True for a well-formed run id (32 lowercase hex characters). */
export function isRunId(id: string): boolean {
  return RUN_ID.test(id);
}

/** Read a pipeline record; null when the file does not exist; throws (path in the message) when unusable. */
export function readPipelineRecord(file: string): PipelineRecord | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`Cannot read ${file}: not valid JSON (${(err as Error).message})`);
  }
  const r = v as Partial<PipelineRecord> | null;
  if (r === null || typeof r !== "object" || typeof r.pipeline_id !== "string" || !Array.isArray(r.stages)) {
    throw new Error(`Cannot read ${file}: not a pipeline record`);
  }
  if (r.schema_version !== 2) {
    throw new Error(`Cannot read ${file}: schema_version ${String(r.schema_version)} (expected 2)`);
  }
  return {
    parent_run_id: null,
    ended_at: null,
    current_stage: null,
    exit_code: null,
    reason: null,
    controller_pid: null,
    ...r,
    stages: (r.stages as Partial<StageRecord>[]).map((s) => ({
      started_at: null,
      ended_at: null,
      exit_code: null,
      final_restarts: 0,
      reason: null,
      fingerprint: "",
      evidence_dir: null,
      reused_from: null,
      ...s,
      cleanup_errors: Array.isArray(s.cleanup_errors) ? s.cleanup_errors : [],
    })),
  } as PipelineRecord;
}

/** The newest run's record (`.autosentry/pipeline.json`), or null when no pipeline has run. */
export function readLatestRun(autosentryDir: string): PipelineRecord | null {
  return readPipelineRecord(pipelineLayout(autosentryDir).latest);
}

/** One run's record; throws for an id that is not 32 lowercase hex (no path tricks). */
export function readRun(autosentryDir: string, runId: string): PipelineRecord | null {
  if (!isRunId(runId)) throw new Error(`Not a pipeline run id: '${runId}' (expected 32 lowercase hex)`);
  return readPipelineRecord(pipelineLayout(autosentryDir).runRecord(runId));
}

/** Run ids with a record under `runs/`, oldest first (by start time). */
export function listRuns(autosentryDir: string): string[] {
  const lay = pipelineLayout(autosentryDir);
  let names: string[];
  try {
    names = fs.readdirSync(lay.runs).filter(isRunId);
  } catch {
    return [];
  }
  const started = new Map<string, string>();
  for (const id of names) {
    try {
      const r = readPipelineRecord(lay.runRecord(id));
      if (r) started.set(id, r.started_at);
    } catch {
      // an unreadable record is not listed
    }
  }
  return [...started.keys()].sort((a, b) => (started.get(a)! < started.get(b)! ? -1 : 1));
}

/** The evidence files of one stage (paths; a file may be missing when the stage never got there). */
export interface StageEvidence {
  dir: string;
  launch: string;
  state: string;
  processLog: string;
  monitorLog: string;
  events: string;
  attempts: string;
  /** `incidents/<id>/report.md` copies, oldest first. */
  incidentReports: string[];
}

/** The evidence of `stage`, or null when it has no evidence folder (never started). */
export function stageEvidence(stage: StageRecord): StageEvidence | null {
  if (!stage.evidence_dir) return null;
  const dir = stage.evidence_dir;
  const incDir = path.join(dir, "incidents");
  let ids: string[] = [];
  try {
    ids = fs
      .readdirSync(incDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {}
  return {
    dir,
    launch: path.join(dir, "launch.json"),
    state: path.join(dir, "state.json"),
    processLog: path.join(dir, "process.log"),
    monitorLog: path.join(dir, "autosentry.log"),
    events: path.join(dir, "events.jsonl"),
    attempts: path.join(dir, "attempts.tsv"),
    incidentReports: ids.map((id) => path.join(incDir, id, "report.md")).filter((p) => fs.existsSync(p)),
  };
}

/** Write the record into its run folder and as the latest pointer (both atomically). */
export function writePipelineRecord(layout: PipelineLayout, rec: PipelineRecord): void {
  writeJsonAtomicSync(layout.runRecord(rec.pipeline_id), rec);
  writeJsonAtomicSync(layout.latest, rec);
}
