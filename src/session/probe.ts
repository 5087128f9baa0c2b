/**
 * @module
 * `autosentry probe`: one look at the project for a Claude Code session (dispatch.mode: session) —
 * is the monitor alive, and which incidents wait for the session — as JSON (schema v2 of the Python
 * tool), and the Stop-hook answer built from it.
 *
 * Differences from the Python tool, on purpose (inventory §6 items 30–31):
 * - Liveness is the MONITOR's own: the owner of `.autosentry/monitor.lock` (pid and /proc start
 *   time, so a reused pid does not count), not the child's pid (docker and SLURM have none, and a
 *   live child says nothing about its monitor). `pid` is the monitor's pid; the child's is
 *   `child_pid`.
 * - A run that ended (completed, gave up, aborted, stopped) or never started is not "down": the
 *   session is not nagged to relaunch a monitor whose work is done.
 * - The Stop hook follows Claude Code's contract: the JSON decision is read only on exit code 0;
 *   `{"decision":"block","reason":…}` keeps the session working; when the hook input says
 *   `stop_hook_active` (the session is already continuing because of a Stop hook) nothing is printed,
 *   so it can never loop; it only ever blocks under dispatch.mode: session.
 *
 * This file is pure: the CLI gathers the inputs (state.json, the lock, index.jsonl, the cursor, rule
 * matches) and passes them in.
 */
import type { Action } from "../core/types.ts";

/** The monitor's state as probe reads it (a subset of state.json). */
export interface ProbeState {
  phase: string;
  stop_reason: string | null;
  last_heartbeat: string | null;
  last_exit_code: number | null;
  child_running: boolean;
  pid: number | null;
  child_dead_since: string | null;
  next_restart_at: string | null;
  stage: string | null;
  stage_index: number | null;
  stage_count: number | null;
  monitor: { pid: number } | null;
}

export interface PendingIncident {
  id: string;
  detector: string;
  kind: string;
  message: string;
  /** Name of the first rule that matches it, or null. */
  rule_match: string | null;
  /** That rule's action. */
  suggested_action: Action | null;
  /** Absolute path of the incident folder. */
  folder: string;
}

export type MonitorHealth = "healthy" | "down" | "stale" | "wedged" | "finished" | "never_started";

export interface ProbeMonitor {
  /** Alive and heartbeating. */
  running: boolean;
  /** The monitor's pid (the lock owner's, else the last one state.json names). */
  pid: number | null;
  /** The lock owner is this very process still (pid and start time). */
  pid_alive: boolean;
  last_heartbeat: string | null;
  heartbeat_age_seconds: number | null;
  stale: boolean;
  health: MonitorHealth;
  phase: string | null;
  stop_reason: string | null;
  last_exit_code: number | null;
  child_running: boolean;
  child_pid: number | null;
  child_dead_seconds: number | null;
  wedged: boolean;
  stage: string | null;
  stage_index: number | null;
  stage_count: number | null;
}

export interface ProbeReport {
  schema_version: 2;
  config_path: string | null;
  project_root: string;
  monitor: ProbeMonitor;
  dispatch_mode: "builtin" | "session";
  /** The session cursor: incidents up to this id are handled. */
  cursor: string | null;
  pending_incidents: PendingIncident[];
  summary: string;
  /** Something for the session to do: the monitor is down, stale or wedged, or incidents wait. */
  needs_attention: boolean;
}

export interface ProbeInput {
  configPath: string | null;
  root: string;
  dispatchMode: "builtin" | "session";
  state: ProbeState | null;
  /** The lock file's owner, and whether it is alive. */
  lock: { pid: number; alive: boolean } | null;
  cursor: string | null;
  /** Incidents after the cursor (the CLI lists them only under dispatch.mode: session). */
  pending: PendingIncident[];
  /** `monitor.stall_timeout_seconds`. */
  staleAfterSeconds: number;
  /** `monitor.dead_child_grace_seconds` (0: the stale threshold is used). */
  deadChildGraceSeconds: number;
  now: number;
}

const TERMINAL = new Set(["completed", "gave_up", "aborted", "stopped"]);

function ageSeconds(iso: string | null, now: number): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, Math.round((now - t) / 1000)) : null;
}

/** Build the report from gathered inputs. */
export function probeReport(input: ProbeInput): ProbeReport {
  const s = input.state;
  const alive = input.lock?.alive ?? false;
  const hbAge = ageSeconds(s?.last_heartbeat ?? null, input.now);
  const stale = alive && hbAge !== null && hbAge > input.staleAfterSeconds;
  const deadFor = s && !s.child_running ? ageSeconds(s.child_dead_since, input.now) : null;
  const wedgeAfter = input.deadChildGraceSeconds > 0 ? input.deadChildGraceSeconds : input.staleAfterSeconds;
  const wedged =
    alive &&
    !stale &&
    s !== null &&
    !s.child_running &&
    s.phase !== "paused" &&
    !TERMINAL.has(s.phase) &&
    s.next_restart_at === null &&
    deadFor !== null &&
    deadFor > wedgeAfter;
  let health: MonitorHealth;
  if (alive) health = stale ? "stale" : wedged ? "wedged" : "healthy";
  else if (s === null) health = "never_started";
  else if (TERMINAL.has(s.phase)) health = "finished";
  else health = "down";
  const pid = alive ? input.lock!.pid : (s?.monitor?.pid ?? input.lock?.pid ?? null);
  const monitor: ProbeMonitor = {
    running: alive && !stale,
    pid,
    pid_alive: alive,
    last_heartbeat: s?.last_heartbeat ?? null,
    heartbeat_age_seconds: hbAge,
    stale,
    health,
    phase: s?.phase ?? null,
    stop_reason: s?.stop_reason ?? null,
    last_exit_code: s?.last_exit_code ?? null,
    child_running: s?.child_running ?? false,
    child_pid: s?.pid ?? null,
    child_dead_seconds: deadFor,
    wedged,
    stage: s?.stage ?? null,
    stage_index: s?.stage_index ?? null,
    stage_count: s?.stage_count ?? null,
  };
  const n = input.pending.length;
  const pendingText = n === 0 ? "no pending incidents" : `${n} pending incident${n === 1 ? "" : "s"}`;
  const stageText = s?.stage ? ` [stage ${s.stage}]` : "";
  let head: string;
  switch (health) {
    case "healthy":
      head = "monitor healthy";
      break;
    case "down":
      head = `monitor DOWN (pid=${pid ?? "none"}, phase ${s?.phase ?? "?"})`;
      break;
    case "stale":
      head = `monitor STALE (heartbeat ${hbAge}s old, threshold ${input.staleAfterSeconds}s)`;
      break;
    case "wedged":
      head = `monitor WEDGED${stageText} — heartbeat fresh but no child for ${deadFor}s (threshold ${wedgeAfter}s)`;
      break;
    case "finished":
      head = `monitor not running: the run ended (${s?.phase}${s?.stop_reason ? `: ${s.stop_reason}` : ""})`;
      break;
    case "never_started":
      head = "monitor not started in this project";
      break;
  }
  const needs = health === "down" || health === "stale" || health === "wedged" || n > 0;
  return {
    schema_version: 2,
    config_path: input.configPath,
    project_root: input.root,
    monitor,
    dispatch_mode: input.dispatchMode,
    cursor: input.cursor,
    pending_incidents: input.pending,
    summary: `${head}; ${pendingText}`,
    needs_attention: needs,
  };
}

/** The part of Claude Code's Stop-hook input probe uses. */
export interface StopHookInput {
  stop_hook_active?: boolean;
  hook_event_name?: string;
  [k: string]: unknown;
}

/** Parse the hook input (stdin); null when there is none or it is not a JSON object. */
export function parseHookInput(text: string | null): StopHookInput | null {
  if (!text || text.trim() === "") return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as StopHookInput) : null;
  } catch {
    return null;
  }
}

const MAX_LISTED = 5;

/** One line per pending incident for the Stop-hook reason. */
function listLine(p: PendingIncident): string {
  const msg = p.message.replace(/\s+/g, " ").trim();
  const cut = msg.length > 120 ? `${msg.slice(0, 119)}…` : msg;
  return `- ${p.id} [${p.detector}] rule=${p.rule_match ?? "no-rule"} — ${cut}`;
}

/** The `reason` the session reads when the Stop hook blocks. */
export function stopHookReason(r: ProbeReport, cli = "autosentry"): string {
  const lines = [`autosentry: session-watch fired (${r.summary}).`];
  const m = r.monitor;
  const relaunch = `cd ${shellQuote(r.project_root)} && nohup ${cli} run${r.config_path ? ` -c ${shellQuote(r.config_path)}` : ""} > /dev/null 2>&1 &`;
  if (m.health === "down") {
    lines.push(
      "",
      `The monitor is DOWN (its run was not finished). Relaunch it in the background:`,
      `  ${relaunch}`,
    );
  } else if (m.health === "stale") {
    lines.push(
      "",
      `The monitor (pid ${m.pid}) is alive but has not written a heartbeat for ${m.heartbeat_age_seconds}s. Look at .autosentry/logs/autosentry.log; if it is hung, stop it (kill ${m.pid}) and relaunch:`,
      `  ${relaunch}`,
    );
  } else if (m.health === "wedged") {
    lines.push(
      "",
      `The monitor (pid ${m.pid}) runs but has had no child for ${m.child_dead_seconds}s and nothing is scheduled. Check \`${cli} status\` and .autosentry/logs/autosentry.log.`,
    );
  }
  const n = r.pending_incidents.length;
  if (n > 0) {
    lines.push("", `${n} incident${n === 1 ? "" : "s"} wait${n === 1 ? "s" : ""} for you:`);
    for (const p of r.pending_incidents.slice(0, MAX_LISTED)) lines.push(listLine(p));
    if (n > MAX_LISTED) lines.push(`… and ${n - MAX_LISTED} more`);
    const last = r.pending_incidents[n - 1]!.id;
    lines.push(
      "",
      "For each one: read report.md in its folder (.autosentry/incidents/<id>/), decide, and queue the action for the monitor:",
      `  ${cli} session apply --incident <id> --action <restart|restart_with_env|pause|abort|custom_command> [--set NAME=VALUE]... [--command ARG]... [--rule NAME] --source <rule|claude|manual>`,
      "(when a rule matched, its action is the suggestion; `" +
        cli +
        " probe` shows it). Then mark them handled:",
      `  ${cli} probe --advance-cursor ${last} --quiet`,
    );
  }
  lines.push("", "Invoke /autosentry for the full playbook.");
  return lines.join("\n");
}

/**
 * What the Stop hook prints (null: print nothing). The exit code is always 0: Claude Code reads the
 * JSON decision only then.
 */
export function stopHookOutput(
  r: ProbeReport,
  input: StopHookInput | null,
  cli = "autosentry",
): string | null {
  if (input?.stop_hook_active === true) return null;
  if (r.dispatch_mode !== "session") return null;
  if (!r.needs_attention) return null;
  return JSON.stringify({ decision: "block", reason: stopHookReason(r, cli) });
}

/** Quote a word for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
