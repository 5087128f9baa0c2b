/**
 * @module
 * state.json: the monitor's durable state, readable by `status`, `probe`, tools and people.
 *
 * Field names of the Python tool are kept (pid, started_at, restarts, restart_history, …) so its
 * readers keep working; autosentry adds the monitor's own identity, the run's phase, the child
 * record needed to re-adopt it, the env overlay, pending verifications and the restart schedule.
 *
 * Writes are atomic (temp file, fsync, rename), happen when something changed (coalesced), and
 * otherwise at most every `heartbeat_seconds` for the heartbeat. A failing write backs off
 * (0.5 s doubling to 60 s) and logs once per new error, never once per attempt.
 */
import * as fs from "node:fs";
import type { ChildRecord } from "../supervisors/types.ts";
import { createSpare, removeStaleTemps, replaceFileSync, writeFileAtomic } from "../util/atomic-write.ts";
import type { WriteGate } from "../util/disk-full.ts";
import type { Logger } from "../util/logger.ts";
import { noStartupFailures, type StartupFailures } from "./startup-failures.ts";

/** Where the run is. Terminal phases end the run: the next `run` starts a new one. */
export type Phase =
  | "starting"
  | "running"
  | "backoff"
  | "paused"
  | "stopping"
  | "completed"
  | "gave_up"
  | "aborted"
  | "stopped"
  | "detached";

export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set(["completed", "gave_up", "aborted", "stopped"]);

export interface RestartRecord {
  time: string;
  reason: string;
  rule: string | null;
  new_pid: number | null;
  incident_id: string | null;
  delay_seconds?: number;
}

export interface AnomalyRecord {
  time: string;
  detector: string;
  message: string;
  incident_id: string | null;
}

export interface PendingVerification {
  incident_id: string;
  detector: string;
  fingerprint: string;
  source: string;
  rule: string | null;
  action: string;
  /** ISO time the window closes. */
  deadline: string;
  generation: number;
  branch?: string | null;
  /** The ledger's source column: the rule's name, or `claude`. */
  ledger_source: string;
  /** ISO time the fix was applied (for the ledger's duration). */
  applied_at: string;
  /** The agent's committed fix (src/fixes FixCommit), when there is one to keep or revert. */
  fix?: unknown;
}

export interface MonitorState {
  schema_version: 1;
  run_id: string | null;
  phase: Phase;
  /** What the operator wants: `paused` survives monitor restarts until `resume`. */
  desired: "running" | "paused";
  paused_at: string | null;
  paused_by: string | null;
  monitor: {
    pid: number;
    started_at: string;
    proc_start: string | null;
    version: string;
    host: string;
  } | null;
  // --- Python-compatible fields
  pid: number | null;
  started_at: string | null;
  last_heartbeat: string | null;
  last_exit_code: number | null;
  stop_reason: string | null;
  child_running: boolean;
  child_started_at: string | null;
  child_dead_since: string | null;
  stage: string | null;
  stage_index: number | null;
  stage_count: number | null;
  restarts: number;
  restarts_total: number;
  max_restarts: number;
  last_restart_at: string | null;
  restart_history: RestartRecord[];
  restart_window: string[];
  reset_history: unknown[];
  anomalies: AnomalyRecord[];
  user: Record<string, unknown>;
  // --- autosentry additions
  exit_code: number | null;
  generation: number;
  child: ChildRecord | null;
  last_exit_class: string | null;
  env_overlay: Record<string, string>;
  /** Time-limit endings relaunched in this run (scheduler backends). */
  timeout_requeues: number;
  /** Preemption, node-failure and time-limit relaunches in this run (not charged to max_restarts). */
  requeues_total: number;
  /** Restarts in the current failure sequence (drives the backoff); reset by a stable child. */
  consecutive_failures: number;
  /** Launches in a row whose child died within seconds (it cannot start); see startup-failures.ts. */
  startup_failures: StartupFailures;
  next_restart_at: string | null;
  /**
   * The identical-failure streak; `generation` is the child generation whose failure was counted
   * last, so a monitor recovering that generation's exit (issue 16) knows whether its killed
   * predecessor's count reached state.json (absent in older files: not counted).
   */
  identical: { signature: string | null; count: number; generation?: number | null };
  pending_verifications: PendingVerification[];
  /** The agent goes before rules (unverified restarts reached `escalate_to_claude_after`). */
  escalated: boolean;
  /** Detectors whose next failure goes to the agent first (a rule's fix regressed). */
  force_agent: string[];
  /** Detectors whose healing is paused (`regression_action: escalate`) until `autosentry approve`. */
  paused_detectors: string[];
  /** Why agent healing is off for this monitor (auth, quota, missing CLI), or null. */
  agent_disabled: string | null;
  /** Healing attempts per detector (ISO times) for the hourly budget. */
  attempts_by_detector: Record<string, string[]>;
  last_incident_id: string | null;
  /** Bytes of control.jsonl already applied. */
  control_offset: number;
  /** issue 11: the checkpoint the next (or current) run resumes from, and the steps lost. */
  resume?: {
    checkpoint: string | null;
    step: number | null;
    last_step: number | null;
    steps_lost: number | null;
    at: string;
  } | null;
}

const HISTORY_CAP = 200;

export function emptyState(): MonitorState {
  return {
    schema_version: 1,
    run_id: null,
    phase: "stopped",
    desired: "running",
    paused_at: null,
    paused_by: null,
    monitor: null,
    pid: null,
    started_at: null,
    last_heartbeat: null,
    last_exit_code: null,
    stop_reason: null,
    child_running: false,
    child_started_at: null,
    child_dead_since: null,
    stage: null,
    stage_index: null,
    stage_count: null,
    restarts: 0,
    restarts_total: 0,
    max_restarts: 0,
    last_restart_at: null,
    restart_history: [],
    restart_window: [],
    reset_history: [],
    anomalies: [],
    user: {},
    exit_code: null,
    generation: 0,
    child: null,
    last_exit_class: null,
    env_overlay: {},
    timeout_requeues: 0,
    requeues_total: 0,
    consecutive_failures: 0,
    startup_failures: noStartupFailures(),
    next_restart_at: null,
    identical: { signature: null, count: 0 },
    pending_verifications: [],
    escalated: false,
    force_agent: [],
    paused_detectors: [],
    agent_disabled: null,
    attempts_by_detector: {},
    last_incident_id: null,
    control_offset: 0,
    resume: null,
  };
}

/** Read state.json; missing → null; unparseable → throws with the path in the message. */
export function readState(file: string): MonitorState | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`Cannot read ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`Cannot read ${file}: expected a JSON object`);
  }
  const problems = stateTypeProblems(parsed as Record<string, unknown>);
  if (problems.length > 0) throw new Error(`Cannot read ${file}: ${problems.join("; ")}`);
  // Missing fields take their defaults, so older files (and the Python tool's) load.
  return { ...emptyState(), ...(parsed as Partial<MonitorState>) } as MonitorState;
}

const PHASES: ReadonlySet<string> = new Set<Phase>([
  "starting",
  "running",
  "backoff",
  "paused",
  "stopping",
  "completed",
  "gave_up",
  "aborted",
  "stopped",
  "detached",
]);

type FieldKind = "str?" | "num?" | "num" | "bool" | "arr" | "obj" | "obj?";

/** The type of every field a reader relies on (Python-written files have the same types). */
const FIELD_KINDS: Record<string, FieldKind> = {
  run_id: "str?",
  paused_at: "str?",
  paused_by: "str?",
  monitor: "obj?",
  pid: "num?",
  started_at: "str?",
  last_heartbeat: "str?",
  last_exit_code: "num?",
  stop_reason: "str?",
  child_running: "bool",
  child_started_at: "str?",
  child_dead_since: "str?",
  stage: "str?",
  stage_index: "num?",
  stage_count: "num?",
  restarts: "num",
  restarts_total: "num",
  max_restarts: "num",
  last_restart_at: "str?",
  restart_history: "arr",
  restart_window: "arr",
  anomalies: "arr",
  exit_code: "num?",
  generation: "num",
  child: "obj?",
  last_exit_class: "str?",
  env_overlay: "obj",
  consecutive_failures: "num",
  next_restart_at: "str?",
  identical: "obj",
  pending_verifications: "arr",
  escalated: "bool",
  force_agent: "arr",
  paused_detectors: "arr",
  agent_disabled: "str?",
  attempts_by_detector: "obj",
  last_incident_id: "str?",
  control_offset: "num",
};

function kindOk(kind: FieldKind, v: unknown): boolean {
  const nullable = kind.endsWith("?");
  if (v === null) return nullable;
  switch (kind.replace("?", "")) {
    case "str":
      return typeof v === "string";
    case "num":
      return typeof v === "number" && Number.isFinite(v);
    case "bool":
      return typeof v === "boolean";
    case "arr":
      return Array.isArray(v);
    default:
      return typeof v === "object" && !Array.isArray(v);
  }
}

/**
 * Fields of a parsed state.json with the wrong type (issue 16, finding 11: `phase: 42` was shown
 * as is). A missing field is fine (it takes its default); a present one must have its type.
 */
export function stateTypeProblems(v: Record<string, unknown>): string[] {
  const out: string[] = [];
  const show = (x: unknown) => JSON.stringify(x)?.slice(0, 40) ?? String(x);
  if ("phase" in v && !(typeof v.phase === "string" && PHASES.has(v.phase)))
    out.push(`phase is ${show(v.phase)} (expected one of ${[...PHASES].join(", ")})`);
  if ("desired" in v && v.desired !== "running" && v.desired !== "paused")
    out.push(`desired is ${show(v.desired)} (expected running or paused)`);
  for (const [key, kind] of Object.entries(FIELD_KINDS)) {
    if (key in v && !kindOk(kind, v[key])) out.push(`${key} is ${show(v[key])} (expected ${kindName(kind)})`);
  }
  return out;
}

function kindName(kind: FieldKind): string {
  const base = { str: "a string", num: "a number", bool: "true or false", arr: "a list", obj: "an object" }[
    kind.replace("?", "") as "str" | "num" | "bool" | "arr" | "obj"
  ];
  return kind.endsWith("?") ? `${base} or null` : base;
}

/** True when `state` belongs to a run whose monitor died mid-run (it is continued, not restarted). */
export function continuesRun(state: MonitorState): boolean {
  return state.run_id !== null && !TERMINAL_PHASES.has(state.phase);
}

/**
 * Begin a fresh run: the unverified restart count, backoff, identical-failure streak, env overlay,
 * launch-rate window and verifications start over. Totals, histories and a durable pause are kept.
 */
export function beginRun(state: MonitorState, runId: string): void {
  state.run_id = runId;
  state.restarts = 0;
  state.consecutive_failures = 0;
  state.startup_failures = noStartupFailures();
  state.timeout_requeues = 0;
  state.requeues_total = 0;
  state.identical = { signature: null, count: 0 };
  state.env_overlay = {};
  state.pending_verifications = [];
  state.escalated = false;
  state.force_agent = [];
  state.paused_detectors = [];
  state.agent_disabled = null;
  state.next_restart_at = null;
  state.restart_window = [];
  state.attempts_by_detector = {};
  state.child = null;
  state.generation = 0;
  state.last_exit_code = null;
  state.last_exit_class = null;
  state.exit_code = null;
  state.stop_reason = null;
  state.resume = null;
}

/**
 * Tag the run with the pipeline stage it belongs to (`stage_index` 1-based from a 0-based
 * `index`), or clear the tag (`null`: a single-process run, or a pipeline that ended).
 */
export function tagStage(
  state: MonitorState,
  stage: { name: string; index: number; count: number } | null,
): void {
  state.stage = stage?.name ?? null;
  state.stage_index = stage ? stage.index + 1 : null;
  state.stage_count = stage?.count ?? null;
}

/** Append to a capped history list (newest last). */
export function pushCapped<T>(list: T[], item: T, cap = HISTORY_CAP): void {
  list.push(item);
  if (list.length > cap) list.splice(0, list.length - cap);
}

/** A restart-history record printed for state.json, and what it held then (see {@link stateText}). */
export interface PrintedRecord {
  keys: string[];
  values: unknown[];
  text: string;
  /** The record was frozen when printed: it cannot have changed since (no comparison needed). */
  frozen: boolean;
}

/**
 * The text of state.json: `JSON.stringify(state, null, 2)` and a newline, with the records of
 * `restart_history` printed once and remembered (issue 13: in a crash loop the list is 200
 * records, ~38 kB of ~52 kB, printed again at every launch). A record is remembered by identity and
 * checked against the keys and values it had (a record is changed once, when its restart's pid is
 * known); one holding anything but plain values is printed each time. A record that was frozen
 * when printed (launching.ts freezes it once its pid is known) is not compared again: that
 * comparison, 200 records at every launch, was the largest part of this function's time.
 */
export function stateText(state: MonitorState, printed: WeakMap<object, PrintedRecord>): string {
  const history = state.restart_history;
  if (!Array.isArray(history) || history.length === 0) return `${JSON.stringify(state, null, 2)}\n`;
  const rest = JSON.stringify({ ...state, restart_history: [] }, null, 2);
  const slot = '\n  "restart_history": []';
  const at = rest.indexOf(slot);
  if (at === -1) return `${JSON.stringify(state, null, 2)}\n`;
  const records = history.map((record) => {
    if (record === null || typeof record !== "object") return JSON.stringify(record, null, 2) ?? "null";
    const seen = printed.get(record);
    if (seen?.frozen) return seen.text;
    const keys = Object.keys(record);
    const values = Object.values(record);
    const frozen = Object.isFrozen(record);
    if (seen && sameList(seen.keys, keys) && sameList(seen.values, values)) {
      if (frozen) seen.frozen = true;
      return seen.text;
    }
    const text = (JSON.stringify(record, null, 2) ?? "null").replace(/\n/g, "\n    ");
    if (values.every((v) => v === null || typeof v !== "object"))
      printed.set(record, { keys, values, text, frozen });
    return text;
  });
  return `${rest.slice(0, at)}\n  "restart_history": [\n    ${records.join(",\n    ")}\n  ]${rest.slice(at + slot.length)}\n`;
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** How the write gate names state.json. */
const STATE_WHAT = "state.json";

/** Owns the in-memory state and its persistence. */
export class StateStore {
  readonly state: MonitorState;
  private dirty = false;
  private writing: Promise<void> | null = null;
  private lastWriteAt = 0;
  private retryAt = 0;
  private failDelayMs = 0;
  private lastError: string | null = null;
  private suppressed = 0;
  private lastGated = false;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** Restart-history records as last printed (see {@link stateText}). */
  private readonly printed = new WeakMap<object, PrintedRecord>();
  /** An empty temporary file for the next {@link recordNow} (see {@link prepareSpare}). */
  private spare: string | null = null;
  private preparingSpare = false;
  private staleRemoved = false;
  private disposed = false;
  /** Callers of {@link whenWritten} waiting for the next successful write. */
  private waiters: Array<() => void> = [];

  constructor(
    readonly file: string,
    initial: MonitorState,
    private readonly logger: Logger,
    private readonly heartbeatMs: number,
    /** Where a full disk is said once (src/util/disk-full.ts). */
    private readonly gate?: WriteGate,
  ) {
    this.state = initial;
  }

  /** Something changed: write soon (coalescing bursts of changes into one write). */
  changed(): void {
    this.dirty = true;
    if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        void this.flush();
      }, 50);
    }
  }

  /**
   * Resolves once a write that holds every change made so far has succeeded (coalesced with the
   * usual writes: no extra write). The monitor removes a child's exit file only after state.json
   * says its exit was recorded (issue 16).
   */
  whenWritten(): Promise<void> {
    this.changed();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * Write now, synchronously and without fsync, after the write in flight (if any): complete in the
   * file system, so it survives a crash of the monitor (not a power loss; the usual coalesced write
   * with fsync still follows). For the child record at a launch: a monitor SIGKILLed right after
   * that child's exit reached it must find the child in state.json, or the next monitor cannot
   * recover the exit (issue 16; a child that dies at once beat the 50 ms coalescing).
   */
  async recordNow(): Promise<void> {
    // A write in flight may hold the state from before the change: let it land first. Writes
    // started after this call hold the change already.
    const inFlight = this.writing;
    if (inFlight) await inFlight;
    const spare = this.spare ?? undefined;
    this.spare = null;
    try {
      this.state.last_heartbeat = new Date().toISOString();
      replaceFileSync(this.file, stateText(this.state, this.printed), 0o644, spare);
    } catch {
      // the coalesced write below retries, and reports what fails
    }
    this.changed();
    this.prepareSpare();
  }

  /**
   * The temporary file of the next {@link recordNow}, created off the event loop (issue 13: a
   * launch then writes state.json without creating an inode on the way to the child's start).
   * A monitor killed leaves it empty; the next one removes it ({@link removeStaleTemps}).
   */
  private prepareSpare(): void {
    if (this.spare !== null || this.preparingSpare || this.disposed) return;
    this.preparingSpare = true;
    if (!this.staleRemoved) {
      this.staleRemoved = true;
      removeStaleTemps(this.file);
    }
    void createSpare(this.file).then((spare) => {
      this.preparingSpare = false;
      if (spare === null) return;
      if (this.disposed) fs.rmSync(spare, { force: true });
      else this.spare = spare;
    });
  }

  /** Called every tick: writes the heartbeat when it is due, or pending changes. */
  tick(now: number): void {
    if (now - this.lastWriteAt >= this.heartbeatMs) this.dirty = true;
    if (this.dirty) void this.flush();
  }

  /** Write now if dirty (or `force`); resolves when written or when the write failed (logged). */
  async flush(force = false): Promise<void> {
    if (force) this.dirty = true;
    if (this.writing) {
      await this.writing;
      if (!this.dirty) return;
    }
    if (!this.dirty) return;
    const now = Date.now();
    if (!force && now < this.retryAt) {
      this.suppressed++;
      return;
    }
    this.dirty = false;
    this.state.last_heartbeat = new Date(now).toISOString();
    const text = stateText(this.state, this.printed);
    const waiting = this.waiters;
    this.waiters = [];
    this.writing = writeFileAtomic(this.file, text).then(
      () => {
        this.lastWriteAt = Date.now();
        for (const w of waiting) w();
        this.gate?.ok(STATE_WHAT);
        if (this.lastError !== null && !this.lastGated) {
          this.logger.info(`state.json writes recovered (${this.suppressed} skipped while failing)`);
        }
        this.lastError = null;
        this.lastGated = false;
        this.failDelayMs = 0;
        this.retryAt = 0;
        this.suppressed = 0;
      },
      (err: unknown) => {
        this.dirty = true;
        this.waiters.unshift(...waiting);
        const msg = err instanceof Error ? err.message : String(err);
        const capped = this.failDelayMs >= 60_000;
        this.failDelayMs = Math.min(60_000, this.failDelayMs === 0 ? 500 : this.failDelayMs * 2);
        this.retryAt = Date.now() + this.failDelayMs;
        // A full disk is the gate's to say, once for every writer (issue 16, finding 9).
        this.lastGated = this.gate?.failed(STATE_WHAT, err) ?? false;
        if (!this.lastGated && (msg !== this.lastError || (capped && this.suppressed > 0))) {
          this.logger.error(`Cannot write ${this.file}: ${msg} (retrying in ${this.failDelayMs / 1000}s)`);
        }
        this.lastError = msg;
      },
    );
    const w = this.writing;
    await w;
    if (this.writing === w) this.writing = null;
  }

  /** Stop the coalescing timer (the caller flushes before exit); remove the spare file. */
  dispose(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.disposed = true;
    if (this.spare !== null) fs.rmSync(this.spare, { force: true });
    this.spare = null;
  }
}
