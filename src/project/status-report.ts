/**
 * @module
 * The status report of one project, read from state.json, the monitor lock and pipeline.json:
 * what `autosentry status --json` prints and `/api/status` of `autosentry web` serves.
 */
import { ownerAlive, readLock } from "../monitor/lock.ts";
import type { MonitorState } from "../monitor/state.ts";
import type { PipelineStatusReport } from "../pipeline/status.ts";
import { pidAlive } from "../util/proc.ts";

export interface StatusReport {
  schema_version: 1;
  state_path: string;
  monitor: { running: boolean; pid: number | null; since: string | null; host: string | null };
  phase: string;
  desired: string;
  stop_reason: string | null;
  exit_code: number | null;
  child: {
    running: boolean;
    pid: number | null;
    generation: number;
    started_at: string | null;
    dead_since: string | null;
    last_exit_code: number | null;
    last_exit_class: string | null;
  };
  restarts: number;
  max_restarts: number;
  restarts_total: number;
  next_restart_at: string | null;
  env_overlay: Record<string, string>;
  pending_verifications: number;
  last_incident_id: string | null;
  last_heartbeat: string | null;
  /** Pipelines (process.stages): the configured stages and the latest run; null otherwise. */
  stages: PipelineStatusReport | null;
  state: MonitorState;
}

/** Build the status report from files on disk. */
export function statusReport(
  statePath: string,
  lockPath: string,
  state: MonitorState,
  stages: PipelineStatusReport | null = null,
): StatusReport {
  const lock = readLock(lockPath);
  const running = lock !== null && ownerAlive(lock);
  return {
    schema_version: 1,
    state_path: statePath,
    monitor: {
      running,
      pid: running ? lock!.pid : (state.monitor?.pid ?? null),
      since: running ? lock!.started_at : (state.monitor?.started_at ?? null),
      host: lock?.host ?? state.monitor?.host ?? null,
    },
    phase: running ? state.phase : monitorDownPhase(state.phase),
    desired: state.desired,
    stop_reason: state.stop_reason,
    exit_code: state.exit_code,
    child: {
      // With the monitor down, state.json may be stale (its last write failed on a full disk):
      // a local child is running only if its pid is alive (issue 16, finding 9).
      running:
        state.child_running &&
        (running || state.child?.kind !== "local" || (state.pid !== null && pidAlive(state.pid))),
      pid: state.pid,
      generation: state.generation,
      started_at: state.child_started_at,
      dead_since: state.child_dead_since,
      last_exit_code: state.last_exit_code,
      last_exit_class: state.last_exit_class,
    },
    restarts: state.restarts,
    max_restarts: state.max_restarts,
    restarts_total: state.restarts_total,
    next_restart_at: state.next_restart_at,
    env_overlay: state.env_overlay,
    pending_verifications: state.pending_verifications.length,
    last_incident_id: state.last_incident_id,
    last_heartbeat: state.last_heartbeat,
    stages,
    state,
  };
}

export function lockAlive(lockPath: string): boolean {
  const lock = readLock(lockPath);
  return lock !== null && ownerAlive(lock);
}

/** A non-terminal phase without a live monitor means the monitor died mid-run. */
function monitorDownPhase(phase: string): string {
  return ["completed", "gave_up", "aborted", "stopped", "detached"].includes(phase)
    ? phase
    : `${phase} (monitor not running)`;
}
