/**
 * @module
 * `autosentry reset`: counters, pauses and budgets back to a fresh start, history kept. One function
 * changes the state, used by the CLI when no monitor runs and by the monitor when the command
 * reaches it through the control inbox (so a running monitor's in-memory state is what is reset,
 * and no process is ever signalled: the Python tool SIGTERMed a recorded pid that may have been
 * recycled, inventory §6 item 38).
 *
 * Reset: `restarts`, `restart_window`, `consecutive_failures`, the identical-failure count, the
 * agent escalation and forced-agent detectors, healing paused per detector, the hourly budgets,
 * a disabled agent, the time-limit requeue count, and an operator pause (`desired: paused`).
 * Kept: `restarts_total`, and `restart_history` and `anomalies` unless `full`. Each reset appends
 * a `reset_history` record and a line to `<log_dir>/reset.log`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { appendJsonl } from "../util/jsonl.ts";
import { noStartupFailures } from "./startup-failures.ts";
import { type MonitorState, pushCapped } from "./state.ts";

export interface ResetRecord {
  id: string;
  time: string;
  reason: string;
  by: string;
  source: "manual" | "pipeline" | "test";
  prior_restarts: number;
  prior_restarts_total: number;
  cleared_history: boolean;
  stage: string | null;
  /** Whether an operator pause was lifted. */
  unpaused: boolean;
}

export interface ResetRequest {
  id: string;
  reason: string;
  by: string;
  full: boolean;
  source?: ResetRecord["source"];
}

/** The control-inbox line that asks a running monitor to reset. */
export interface ResetCommand {
  id: string;
  time: string;
  command: "reset";
  user: string;
  reason: string;
  full: boolean;
}

/** A new request id. */
export function resetId(): string {
  return `reset-${Date.now()}-${Math.random().toString(16).slice(2, 10)}`;
}

/** Apply a reset to `st` in place; returns the record appended to `reset_history`. */
export function applyReset(st: MonitorState, req: ResetRequest): ResetRecord {
  const record: ResetRecord = {
    id: req.id,
    time: new Date().toISOString(),
    reason: req.reason,
    by: req.by,
    source: req.source ?? "manual",
    prior_restarts: st.restarts,
    prior_restarts_total: st.restarts_total,
    cleared_history: req.full,
    stage: st.stage,
    unpaused: st.desired === "paused",
  };
  st.restarts = 0;
  st.restart_window = [];
  st.consecutive_failures = 0;
  st.startup_failures = noStartupFailures();
  st.identical = { signature: null, count: 0 };
  st.escalated = false;
  st.force_agent = [];
  st.paused_detectors = [];
  st.attempts_by_detector = {};
  st.agent_disabled = null;
  st.timeout_requeues = 0;
  st.desired = "running";
  st.paused_at = null;
  st.paused_by = null;
  if (req.full) {
    st.restart_history = [];
    st.anomalies = [];
  }
  pushCapped(st.reset_history, record);
  return record;
}

/** Append the reset.log line (best effort: the state change is what matters). */
export function appendResetLog(logDir: string, r: ResetRecord): void {
  const parts = [
    r.time,
    `source=${r.source}`,
    `by=${r.by}`,
    `prior_restarts=${r.prior_restarts}`,
    `prior_total=${r.prior_restarts_total}`,
    ...(r.stage ? [`stage=${r.stage}`] : []),
    ...(r.cleared_history ? ["cleared_history=true"] : []),
    `reason=${JSON.stringify(r.reason)}`,
  ];
  try {
    fs.mkdirSync(logDir, { recursive: true });
    fs.appendFileSync(path.join(logDir, "reset.log"), `${parts.join("  ")}\n`);
  } catch {
    // a log line is not worth failing the reset for
  }
}

/** Ask a running monitor to reset (one line in the control inbox). */
export function sendReset(controlFile: string, req: ResetRequest): ResetCommand {
  const cmd: ResetCommand = {
    id: req.id,
    time: new Date().toISOString(),
    command: "reset",
    user: req.by,
    reason: req.reason,
    full: req.full,
  };
  appendJsonl(controlFile, cmd, true);
  return cmd;
}

/** True when `st` records the reset with this id. */
export function resetApplied(st: MonitorState | null, id: string): boolean {
  return (st?.reset_history ?? []).some((r) => (r as { id?: unknown } | null)?.id === id);
}
