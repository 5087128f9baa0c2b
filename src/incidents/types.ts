/**
 * @module
 * The IncidentStore seam: one folder per incident (inventory §4.9) plus `index.jsonl`.
 * The folder is created before any healer runs; the outcome is recorded afterwards.
 */
import type { Detection, HealerOutcome, ProcessKind } from "../core/types.ts";

/** Everything known when the incident is opened. */
export interface NewIncident {
  /** The first detection of this failure. */
  detection: Detection;
  /** All detections gathered for it, in arrival order (includes `detection`). */
  related: Detection[];
  /** The rolling buffer of log lines up to the failure line, oldest first. */
  logExcerpt: string[];
  /**
   * Lines of the child that arrived after the failure line and before the incident was written (a
   * detection made on a later line or tick, the settle window): log_excerpt.txt keeps them after
   * its "after the failure" marker, never among the lines before the failure.
   */
  afterFailure?: string[];
  /** The monitor's state at detection time (written as state.json in the folder; copied when create() is called). */
  state: unknown;
  process: { kind: ProcessKind; argv: string[]; cwd: string; pid: number | null };
  restarts: number;
  /** 0 = unlimited (rendered ∞). */
  maxRestarts: number;
  /** Absolute paths of config_snapshots entries; missing files are noted, not fatal. */
  configSnapshots: string[];
  /** The checkpoint the next run resumes from (process.resume), when one is configured. */
  resume?: ResumeInfo | null | undefined;
  /**
   * The outcome, when it is known before the folder is written: nothing applied, for this reason.
   * The folder is then written with it, exactly as `recordOutcome(id, { outcome: null, note })`
   * would complete it, and has one index line (issue 13: the restart path of a crash loop writes
   * incident.json and report.md once).
   */
  outcomeNote?: string;
}

/** Where the next run resumes (issue 11). */
export interface ResumeInfo {
  /** Absolute path of the newest complete checkpoint, or null when there is none yet. */
  checkpoint: string | null;
  /** Its step, when its name says one. */
  step: number | null;
  /** The last step the failed run reported (null: unknown). */
  last_step: number | null;
  /** last_step − step: the steps the next run does again (null: unknown). */
  steps_lost: number | null;
}

/** What happened after the healer chain answered. */
export interface AppliedOutcome {
  outcome: HealerOutcome | null;
  /** Env values actually used for restart_with_env (`half` resolved to a number). */
  resolvedEnv?: Record<string, string>;
  /** custom_command: exit code and output (stdout+stderr interleaved, bounded). */
  commandResult?: { argv: string[]; exitCode: number | null; timedOut: boolean; output: string };
  /** Why nothing was applied, or what failed while applying. */
  note?: string;
}

/** One line of index.jsonl. Readers keep the last line per id (a line is appended on create and on outcome). */
export interface IndexEntry {
  id: string;
  time: string;
  kind: string;
  detector: string;
  message: string;
  exception_type: string | null;
  /** Groups incidents of the same failure (fingerprint.ts); null in lines written before it existed. */
  fingerprint: string | null;
  rule: string | null;
  action: string | null;
  source: string | null;
  generation: number;
}

export interface IncidentRef {
  id: string;
  /** Absolute path of the folder. */
  dir: string;
}

export interface IncidentStore {
  create(input: NewIncident): Promise<IncidentRef>;
  /** Record the outcome: rule_match.json, fix/action.json, command output, re-rendered report.md, index line. */
  recordOutcome(id: string, applied: AppliedOutcome): Promise<void>;
  /** Append lines that arrived after the failure to log_excerpt.txt. */
  appendAfterLines(id: string, lines: string[]): Promise<void>;
  /** Append an operator's note (one line) to the incident's notes.md (chat `note: …`). */
  appendNote?(id: string, line: string): Promise<void>;
  /** Newest last; `limit` keeps the newest N. Entries merged by id (last line wins). */
  list(limit?: number): Promise<IndexEntry[]>;
  /**
   * The incident already written for child `generation` at or after `sinceMs` (epoch ms), or null:
   * a monitor recovering an exit its killed predecessor may have recorded must not write it twice.
   */
  findByGeneration?(generation: number, sinceMs: number): Promise<IncidentRef | null>;
  /** The monitor is stopping: remove what was prepared ahead for the next incident. */
  close?(): Promise<void>;
}
