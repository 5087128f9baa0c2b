/**
 * @module
 * The values that cross layer boundaries. Every layer may import this file; it imports nothing.
 *
 * The seams between layers are small on purpose: a supervisor produces {@link LogLine}s and
 * {@link ChildExit}s, detectors turn them into {@link Detection}s, healers turn a detection into a
 * {@link HealerOutcome} carrying an {@link Action}, the monitor applies it and the incident store
 * records all of it. Field names of values that are written to disk use the on-disk (snake_case)
 * spelling of the Python tool so the files stay compatible.
 */

/** Where a line came from. `log` is a line read back from a file that does not say which stream wrote it. */
export type Stream = "stdout" | "stderr" | "log";

/** One line of the supervised work's output, without its line terminator. */
export interface LogLine {
  text: string;
  stream: Stream;
  /** Epoch milliseconds when the monitor received the line. */
  at: number;
  /** Which launch of the child produced it (1 for the first launch, +1 per restart). */
  generation: number;
}

/** The supervisor backends. */
export type ProcessKind = "local" | "slurm" | "docker" | "attach";

/**
 * How a child ended, from the monitor's point of view.
 * - `success`: exit code 0 reported by something that really knows (never assumed).
 * - `failure`: a non-zero exit code.
 * - `signal`: killed by a signal that the monitor did not send.
 * - `stopped`: the monitor (or an operator through it) stopped it.
 * - `preempted`, `node_fail`, `timeout`, `oom`, `cancelled`: scheduler outcomes (SLURM).
 * - `unknown`: it is gone and nobody can say how (attach, a re-adopted child without an exit file).
 * - `max_run`: stopped by the monitor for passing `process.max_run_seconds`.
 */
export type ExitClass =
  | "success"
  | "failure"
  | "signal"
  | "stopped"
  | "preempted"
  | "node_fail"
  | "timeout"
  | "oom"
  | "cancelled"
  | "unknown"
  // issue 11: stopped for passing process.max_run_seconds
  | "max_run";

export interface ChildExit {
  /** Exit code when one is known; for a signal death, 128 + signal number. */
  code: number | null;
  /** Signal name (`SIGKILL`) when the child died of a signal. */
  signal: string | null;
  exitClass: ExitClass;
  /** Epoch milliseconds. */
  at: number;
  generation: number;
  /** Free text from the backend, e.g. `slurm state TIMEOUT` or `exit file missing`. */
  detail?: string;
}

/** Kinds of detector. */
export type DetectorKind =
  | "pattern"
  | "traceback"
  | "stall"
  | "exit_code"
  // issue 11: training metrics, resources, liveness and health probes
  | "metric"
  | "resource"
  | "heartbeat"
  | "probe"
  | "completion";

/**
 * `error` detections are failures; `anomaly` detections are warnings about a live child (a stall).
 * `completion` says the work is done (a completion marker): never a failure, the monitor ends the
 * run as a success (stopping a child that hangs in its teardown).
 */
export type DetectionKind = "error" | "anomaly" | "completion";

/** One point of a numeric series (a training metric or a sampled resource). */
export interface SeriesPoint {
  /** Epoch milliseconds when the value was read. */
  at: number;
  /** The job's step when the line said one, else null. */
  step: number | null;
  /** NaN and ±Infinity are kept as such (they are what a metric detector looks for). */
  value: number;
}

/**
 * One reading of a sampled resource (src/signals → the monitor → a resource detector). `resource`
 * names what was measured (`disk`, `memory`, `rss`, `fds`, `gpu_memory`, `gpu_util`, `gpu_ecc`,
 * `gpu_xid`), `subject` which one (a path, a GPU index, the child's pid).
 */
export interface ResourceReading {
  resource: string;
  subject: string;
  /** percent for disk and gpu_memory/gpu_util, bytes for memory and rss, a count otherwise. */
  value: number;
  at: number;
  /** Free text for the message (`12.1 GiB of 15.6 GiB`, an Xid line). */
  detail?: string | undefined;
}

/** A named series attached to a detection, for the incident's metrics section. */
export interface DetectionSeries {
  name: string;
  /** Oldest first, bounded by the detector. */
  points: SeriesPoint[];
}

/** Languages whose tracebacks the traceback detector understands. */
/** `cpp`: a C++ exception through `terminate called after throwing an instance of …` (libtorch, c10). */
export type TraceLanguage = "python" | "node" | "go" | "rust" | "java" | "cpp";

/** One stack frame, as parsed from a trace. */
export interface Frame {
  file: string;
  /** 1-based line number. */
  line: number;
  /** 1-based column when the trace gives one. */
  column?: number;
  /** Function or method name as the trace spells it (`Trainer.step`, `main.main`, `<module>`). */
  function: string | null;
  /** The trace line(s) the frame was read from, prefix removed. */
  raw: string;
}

/** One exception of a (possibly chained) trace. */
export interface TraceException {
  /** `ValueError`, `TypeError`, `java.lang.IllegalStateException`, `panic`, … */
  type: string | null;
  message: string;
  /** Innermost first. */
  frames: Frame[];
}

/** A parsed stack trace. */
export interface Trace {
  language: TraceLanguage;
  /** The trace's lines with log prefixes (timestamps, `[rank3]:`) removed, joined by `\n`. */
  text: string;
  /**
   * Every exception in the order the program raised them: for Python's "During handling …" and
   * Java's "Caused by:", `exceptions[0]` is the first (root) error and the last one is the final
   * error that ended the program. A trace without chaining has exactly one entry.
   */
  exceptions: TraceException[];
}

/** What a detector reports. */
export interface Detection {
  /** The detector's configured name (`oom`, `traceback`, `exit_code`, …). */
  detector: string;
  detectorKind: DetectorKind;
  kind: DetectionKind;
  /**
   * One line a person (or a rule's `message_regex`) can read: for a traceback the exception type
   * and message (`torch.OutOfMemoryError: CUDA out of memory…`), never a trace header.
   */
  message: string;
  /** The final exception's type, when the detection comes from a trace or names one. */
  exceptionType?: string | undefined;
  trace?: Trace | undefined;
  /** The detector's own recent lines, oldest first. */
  context: string[];
  meta: Record<string, string | number | boolean | null>;
  /** Recent values of the series the detection is about (metric and resource detectors). */
  series?: DetectionSeries[] | undefined;
  /** Epoch milliseconds. */
  at: number;
  generation: number;
  /**
   * The name of the built-in signature this failure matched (`cuda_oom`, `oom_killer`, …; see
   * src/detectors/signatures/pack.ts). Stable: rules may match on it (`match.signature`). Not
   * called `signature`: the redactor treats a key of that name as a secret.
   */
  signatureName?: string | undefined;
  /** The signature's kind (`oom`, `gpu`, `communication`, `crash`, `launcher`, `jvm`, `data`). */
  signatureKind?: string | undefined;
  /** One line saying what the signature means and what usually helps, for the report. */
  explanation?: string | undefined;
}

/** The actions a rule, an agent or an operator can ask for. Shape of `fix/action.json`. */
export type ActionKind = "restart" | "restart_with_env" | "pause" | "abort" | "custom_command";

export interface Action {
  kind: ActionKind;
  /** Env overlay for `restart_with_env`; values are literals, `half` / `double`, or a factor `*0.5`. */
  set: Record<string, string>;
  /** argv for `custom_command`. */
  command: string[];
  /** Seconds before a `custom_command` is killed. */
  timeout_seconds?: number;
  notify: boolean;
}

/** Who decided an outcome. */
export type OutcomeSource = "rule" | "claude" | "manual" | "policy";

/** What a healer decided for one incident. */
export interface HealerOutcome {
  action: Action;
  source: OutcomeSource;
  /** The rule's name when `source` is `rule`. */
  ruleName?: string | undefined;
  /** The detection the outcome answers (a rule may match a related detection, not the first one). */
  detection: Detection;
  /** Why, in words, for the report. */
  rationale?: string | undefined;
  /** Full agent reply, when an agent produced the outcome. */
  response?: string | undefined;
  /** Unified diff of the agent's edits, when there were any. */
  diff?: string | undefined;
  /**
   * The agent's edits committed on a fix branch (src/fixes `FixCommit`, as plain JSON), so the
   * monitor can keep or revert them when verification ends. Absent for rules and read-only agents.
   */
  fix?: unknown;
}

/** A notification handed to every configured notifier. */
export type NotificationKind = "start" | "anomaly" | "recovery" | "milestone" | "exit" | "heartbeat";

export interface Notification {
  kind: NotificationKind;
  title: string;
  body: string;
  incident_id: string | null;
  /** Structured facts for readable messages and folding (src/notify/message.ts); absent = title/body only. */
  detail?: NotificationDetail | undefined;
}

/** What a person needs to read a notification at a glance: what broke, what was done. */
export interface NotificationDetail {
  /** What is supervised, short (`train.py`). */
  subject?: string | undefined;
  detector?: string | undefined;
  /** Groups repeats of one failure (src/incidents/fingerprint.ts); repeats fold into one message. */
  fingerprint?: string | undefined;
  /** What broke, one line (`CUDA out of memory at step 84,000`). */
  what?: string | undefined;
  /** What was done (`restarted with BATCH_SIZE=32`); absent when nothing was. */
  action?: string | undefined;
  rule?: string | null | undefined;
  /** Unverified restarts after this one, and the cap (0 = unlimited). */
  restart?: number | undefined;
  max_restarts?: number | undefined;
  /** `KeyError: 'lr'`: the exception line. */
  exception?: string | undefined;
  /** The innermost frame of the trace (`train.py:84 in step`). */
  frame?: string | undefined;
  /** Whether something was done about it (used when folding: "healed each time"). */
  healed?: boolean | undefined;
}
