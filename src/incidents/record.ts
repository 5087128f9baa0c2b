/**
 * @module
 * `incident.json`: everything report.md is rendered from, already redacted. The store writes it on
 * create and updates it when the outcome is recorded, so report.md can be re-rendered by any
 * process (a restarted monitor, `incidents show`) without the monitor's memory.
 */
import type {
  Action,
  Detection,
  DetectionKind,
  DetectorKind,
  OutcomeSource,
  ProcessKind,
  Trace,
} from "../core/types.ts";
import type { AppliedOutcome, ResumeInfo } from "./types.ts";

/** One detection as listed in detections.json and under `## Related detections`. */
export interface DetectionSummary {
  detector: string;
  detector_kind: DetectorKind;
  kind: DetectionKind;
  message: string;
  exception_type: string | null;
  /** ISO 8601 UTC. */
  at: string;
  generation: number;
}

/** One `config_snapshots` entry. */
export interface ConfigSnapshotNote {
  /** The configured (absolute) path. */
  source: string;
  /** Path inside the incident folder (`configs/run.yaml`), null when nothing was copied. */
  snapshot: string | null;
  /** Why nothing (or not everything) was copied. */
  note?: string;
}

/** What was decided and applied; null fields mean "not applicable". */
export interface OutcomeSummary {
  /** ISO 8601 UTC. */
  recorded_at: string;
  /** Null when no healer produced an outcome. */
  source: OutcomeSource | null;
  rule: string | null;
  action: Action | null;
  /** Detector of the detection the outcome answered (a rule may match a related detection). */
  answered_detector: string | null;
  rationale: string | null;
  has_response: boolean;
  has_diff: boolean;
  /** restart_with_env: the values actually used, and (for the report) what was asked for. */
  resolved_env: Record<string, string> | null;
  command: { argv: string[]; exit_code: number | null; timed_out: boolean } | null;
  note: string | null;
}

/** An earlier incident of the same failure (same fingerprint), as report.md links it. */
export interface EarlierIncident {
  id: string;
  /** ISO 8601 UTC. */
  time: string;
  /** `rule → action` or the action, when the index knew it; null otherwise. */
  resolution: string | null;
}

/** How often this failure (its fingerprint) was recorded before in the same incidents directory. */
export interface SeenBefore {
  /** Earlier incidents with the same fingerprint. */
  count: number;
  /** The earliest and the latest of them (ISO 8601 UTC); null when count is 0. */
  first_time: string | null;
  last_time: string | null;
  /** The first one and the newest few, oldest first (report.md links each). */
  earlier: EarlierIncident[];
}

/** The environment the failing child ran with, beyond the monitor's own. */
export interface EnvAtIncident {
  /** `process.env` of the config. */
  configured: Record<string, string>;
  /** Values a `restart_with_env` had set (already resolved: `16`, never `half`). */
  overlay: Record<string, string>;
}

export interface IncidentRecord {
  schema_version: 1;
  id: string;
  /** ISO 8601 UTC, when the incident was opened. */
  time: string;
  kind: DetectionKind;
  detector: string;
  detector_kind: DetectorKind;
  message: string;
  exception_type: string | null;
  /** Groups incidents of the same failure (src/incidents/fingerprint.ts). */
  fingerprint: string;
  /** The detector's own data (a stall's metric and last value, an exit code, …). */
  meta: Record<string, string | number | boolean | null>;
  generation: number;
  process: { kind: ProcessKind; argv: string[]; cwd: string; pid: number | null };
  restarts: number;
  /** 0 or less = unlimited. */
  max_restarts: number;
  env: EnvAtIncident;
  seen_before: SeenBefore;
  trace: Trace | null;
  /** Files written under `frames/` (`frames/01-train.py.md`, …), in order. */
  frames: string[];
  /** report.md's `## Source frames` section (Markdown, without the heading). */
  frames_section: string;
  /** Every detection gathered for the failure (includes the first one). */
  related: DetectionSummary[];
  configs: ConfigSnapshotNote[];
  log_excerpt: {
    /** Lines of log before the failure in log_excerpt.txt. */
    lines: number;
    /** The last few of them, for the report. */
    tail: string[];
  };
  /** Null until the outcome is recorded. */
  outcome: OutcomeSummary | null;
  /** Recent points of the series the detections were about (metric and resource detectors). */
  metrics?: IncidentSeries[] | undefined;
  /** The checkpoint the next run resumes from, when process.resume is configured. */
  resume?: ResumeInfo | null | undefined;
}

/**
 * A series in incident.json. JSON has no NaN or Infinity, so `v` spells them as strings
 * (`"NaN"`, `"Infinity"`, `"-Infinity"`), as the on-disk series do (docs/signals.md).
 */
export interface IncidentSeries {
  name: string;
  points: { t: number; step: number | null; v: number | string }[];
}

/** The series of `detections` (the last detection's copy of a name wins: it is the newest). */
export function seriesOf(detections: Detection[]): IncidentSeries[] {
  const byName = new Map<string, IncidentSeries>();
  for (const d of detections) {
    for (const s of d.series ?? []) {
      byName.set(s.name, {
        name: s.name,
        points: s.points.map((p) => ({
          t: p.at,
          step: p.step,
          v: Number.isFinite(p.value) ? p.value : String(p.value),
        })),
      });
    }
  }
  return [...byName.values()];
}

/** How many excerpt lines report.md shows inline. */
export const REPORT_TAIL_LINES = 20;

/** A detection as summarised on disk. */
export function summarizeDetection(d: Detection): DetectionSummary {
  return {
    detector: d.detector,
    detector_kind: d.detectorKind,
    kind: d.kind,
    message: d.message,
    exception_type: d.exceptionType ?? null,
    at: new Date(d.at).toISOString(),
    generation: d.generation,
  };
}

/** The outcome as recorded in incident.json. */
export function summarizeOutcome(applied: AppliedOutcome, atMs: number): OutcomeSummary {
  const o = applied.outcome;
  const cr = applied.commandResult;
  return {
    recorded_at: new Date(atMs).toISOString(),
    source: o?.source ?? null,
    rule: o?.source === "rule" ? (o.ruleName ?? o.detection.detector) : null,
    action: o ? { ...o.action } : null,
    answered_detector: o?.detection.detector ?? null,
    rationale: o?.rationale ?? null,
    has_response: o?.response !== undefined && o.response !== "",
    has_diff: o?.diff !== undefined && o.diff !== "",
    resolved_env: applied.resolvedEnv ? { ...applied.resolvedEnv } : null,
    command: cr ? { argv: [...cr.argv], exit_code: cr.exitCode, timed_out: cr.timedOut } : null,
    note: applied.note ?? null,
  };
}
