/**
 * @module
 * The events journal (`<log_dir>/events.jsonl`, inventory §4.11): one JSON object per line,
 * `{schema_version: 1, time, run_id, stage, event, …details}`, appended in one write and fsynced so
 * that `explain` and post-mortems can trust it after a crash. Writing never throws: a journal that
 * cannot be written must not take the monitor down, so failures are counted (and reported once).
 *
 * Listeners (the vault) see every record after it was appended, synchronously, so that what they
 * derive from it is written before the monitor exits; a listener that throws is reported through
 * `onError` and never stops the journal or the other listeners.
 */
import type { WriteGate } from "../util/disk-full.ts";
import { JsonlAppender } from "../util/jsonl-appender.ts";

/** Events the monitor writes (the Python tool's names, plus ours). */
export type MonitorEvent =
  | "monitor_started"
  | "child_start_requested"
  | "child_started"
  | "child_start_failed"
  | "child_adopted"
  | "child_exit_recovered"
  | "child_exited"
  | "detection"
  | "detection_ignored"
  | "incident"
  | "recovery_started"
  | "recovery_applied"
  | "recovery_failed"
  | "recovery_verified"
  | "recovery_regressed"
  /** A child ran long enough without failing: the failure sequence is over. */
  | "stable"
  | "requeued"
  | "escalated"
  | "agent_disabled"
  | "fix_reverted"
  | "fix_kept"
  | "pull_request_opened"
  | "pull_request_failed"
  | "approved"
  | "restart_scheduled"
  | "restart_rate_limited"
  | "repeat_failure_limit"
  | "gave_up"
  | "paused"
  | "resumed"
  /** The child died within seconds of each of its last launches (it cannot start). */
  | "startup_failures"
  /** `autosentry reset`: counters, pauses and budgets back to a fresh start. */
  | "reset"
  | "operator_command"
  /** An operator's `set max_restarts N` / `set env KEY=VALUE` (chat threads) was applied. */
  | "operator_set"
  /** An operator's `note: …` (chat threads). */
  | "operator_note"
  | "session_action_applied"
  | "session_action_failed"
  | "dead_child_timeout"
  | "monitor_stopped"
  // issue 11
  /** A completion marker (or sentinel SUCCESS): the work is done. */
  | "completion"
  /** The child did not exit within completion.grace_seconds and was stopped (still a success). */
  | "completion_teardown_stop"
  | "max_run"
  | "resume_from"
  | "checkpoint_before_stop"
  /** A sampler (disk, nvidia-smi, a probe…) failed or timed out, or works again. */
  | "sampler_failed"
  | "sampler_recovered";

/** Events a pipeline controller writes to the run's journal. */
export type PipelineEvent =
  | "pipeline_started"
  | "stage_reused"
  | "stage_started"
  | "preflight"
  | "stage_finished"
  | "pipeline_finished";

export type JournalEvent = MonitorEvent | PipelineEvent;

/** One journal line. */
export interface JournalRecord {
  schema_version: 1;
  /** ISO 8601 UTC. */
  time: string;
  run_id: string;
  stage: string | null;
  event: JournalEvent;
  [detail: string]: unknown;
}

/** How the write gate names the journal. */
const JOURNAL_WHAT = "the journal (events.jsonl)";

const RESERVED = new Set(["schema_version", "time", "run_id", "stage", "event"]);

export interface JournalOptions {
  runId: string;
  stage?: string | null;
  /** Called with a message the first time a write fails (later failures are only counted). */
  onError?: (message: string) => void;
  /** Clock, epoch ms. */
  now?: () => number;
  /** Where a full disk is said once (src/util/disk-full.ts); such failures skip `onError`. */
  gate?: WriteGate;
  /** Applied to the details of every record (a redactor's `redactJson`): the journal keeps no secrets. */
  redact?: (value: unknown) => unknown;
  /**
   * When given, lines are appended without fsync and made durable through it a moment later
   * (src/util/deferred-sync.ts): the monitor's restart path must not wait for the disk (issue 13).
   * A crash of the monitor loses no line either way; a power loss may lose the last ones.
   */
  durability?: { add(file: string): void };
}

/** Called with each record after it was written (or failed to be written). */
export type JournalListener = (record: JournalRecord) => void;

export class Journal {
  private readonly runId: string;
  private readonly listeners: JournalListener[] = [];
  private readonly stage: string | null;
  private readonly onError: ((message: string) => void) | undefined;
  private readonly now: () => number;
  private readonly redact: ((value: unknown) => unknown) | undefined;
  private readonly durability: { add(file: string): void } | undefined;
  /** The file, kept open between records (issue 13: a reopen per record cost eight system calls). */
  private readonly out: JsonlAppender;
  private failures = 0;
  private readonly gate: WriteGate | undefined;
  /** onError was called (once: later failures are only counted). */
  private errorSaid = false;

  constructor(
    readonly file: string,
    opts: JournalOptions,
  ) {
    this.runId = opts.runId;
    this.stage = opts.stage ?? null;
    this.onError = opts.onError;
    this.now = opts.now ?? Date.now;
    this.redact = opts.redact;
    this.gate = opts.gate;
    this.durability = opts.durability;
    this.out = new JsonlAppender(file);
  }

  /** Call `listener` with every later record; returns a function that removes it. */
  listen(listener: JournalListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i !== -1) this.listeners.splice(i, 1);
    };
  }

  /** Close the file (a later record opens it again). */
  close(): void {
    try {
      this.out.close();
    } catch {}
  }

  /** Writes that failed so far. */
  get errors(): number {
    return this.failures;
  }

  /** Append one event. Detail keys that would overwrite the envelope are dropped. Never throws. */
  write(event: JournalEvent, details: Record<string, unknown> = {}): void {
    const rec: JournalRecord = {
      schema_version: 1,
      time: new Date(this.now()).toISOString(),
      run_id: this.runId,
      stage: this.stage,
      event,
    };
    const safe = this.redact ? (this.redact(details) as Record<string, unknown>) : details;
    for (const [k, v] of Object.entries(safe)) if (!RESERVED.has(k) && v !== undefined) rec[k] = v;
    try {
      this.out.append(rec, this.durability === undefined);
      this.durability?.add(this.file);
      this.gate?.ok(JOURNAL_WHAT);
    } catch (err) {
      this.failures++;
      if (this.gate?.failed(JOURNAL_WHAT, err)) {
        // said once by the gate
      } else if (!this.errorSaid) {
        this.errorSaid = true;
        try {
          this.onError?.(`Cannot write journal ${this.file}: ${(err as Error).message}`);
        } catch {}
      }
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(rec);
      } catch (err) {
        try {
          this.onError?.(`A journal listener failed on ${event}: ${(err as Error).message}`);
        } catch {}
      }
    }
  }
}
