/**
 * @module
 * The pipeline part of `autosentry status`: the configured stages joined with the latest run's
 * record. Read from files only, so it works while no controller runs.
 */
import type { StageSpec } from "../config/schema.ts";
import { pipelineLayout, readLatestRun, type StageStatus } from "./record.ts";

export interface StageStatusRow {
  /** 1-based. */
  index: number;
  name: string;
  status: StageStatus;
  /** The stage the controller is running now. */
  current: boolean;
  exit_code: number | null;
  restarts: number | null;
  started_at: string | null;
  ended_at: string | null;
  reason: string | null;
  reused_from: string | null;
  evidence_dir: string | null;
}

export interface PipelineStatusReport {
  /** null before the first pipeline run. */
  run_id: string | null;
  parent_run_id: string | null;
  /** `running` only while its controller is alive; a dead controller's run shows `interrupted`. */
  status: string;
  controller_running: boolean;
  started_at: string | null;
  ended_at: string | null;
  current_stage: string | null;
  exit_code: number | null;
  reason: string | null;
  run_dir: string | null;
  /** The latest run's stages differ from the configured ones (the config changed since). */
  config_changed: boolean;
  /** A problem reading pipeline.json, else null. */
  error: string | null;
  stages: StageStatusRow[];
}

/**
 * The pipeline status for `stages` (the configured ones), given the `.autosentry` directory and
 * whether the project's monitor lock is held by a live process.
 */
export function pipelineStatus(
  autosentryDir: string,
  stages: readonly Pick<StageSpec, "name">[],
  controllerAlive: boolean,
): PipelineStatusReport {
  const layout = pipelineLayout(autosentryDir);
  let error: string | null = null;
  let rec = null;
  try {
    rec = readLatestRun(autosentryDir);
  } catch (err) {
    error = (err as Error).message;
  }
  const pending = (s: Pick<StageSpec, "name">, i: number): StageStatusRow => ({
    index: i + 1,
    name: s.name,
    status: "pending",
    current: false,
    exit_code: null,
    restarts: null,
    started_at: null,
    ended_at: null,
    reason: null,
    reused_from: null,
    evidence_dir: null,
  });
  if (!rec) {
    return {
      run_id: null,
      parent_run_id: null,
      status: "not run yet",
      controller_running: false,
      started_at: null,
      ended_at: null,
      current_stage: null,
      exit_code: null,
      reason: null,
      run_dir: null,
      config_changed: false,
      error,
      stages: stages.map(pending),
    };
  }
  const running = rec.status === "running";
  const alive = running && controllerAlive;
  const names = stages.map((s) => s.name);
  const changed = names.length !== rec.stages.length || rec.stages.some((s, i) => s.name !== names[i]);
  return {
    run_id: rec.pipeline_id,
    parent_run_id: rec.parent_run_id,
    status: running && !alive ? "interrupted (controller not running)" : rec.status,
    controller_running: alive,
    started_at: rec.started_at,
    ended_at: rec.ended_at,
    current_stage: alive ? rec.current_stage : null,
    exit_code: rec.exit_code,
    reason: rec.reason,
    run_dir: layout.runDir(rec.pipeline_id),
    config_changed: changed,
    error,
    stages: rec.stages.map((s, i) => ({
      index: i + 1,
      name: s.name,
      status: s.status === "running" && !alive ? "interrupted" : s.status,
      current: alive && s.status === "running",
      exit_code: s.exit_code,
      // Counted when a stage ends; the running stage's restarts are in the main status.
      restarts: ["pending", "skipped", "running"].includes(s.status) ? null : s.final_restarts,
      started_at: s.started_at,
      ended_at: s.ended_at,
      reason: s.reason,
      reused_from: s.reused_from,
      evidence_dir: s.evidence_dir,
    })),
  };
}
