/**
 * @module
 * The configuration schema (`.autosentry/autosentry.yaml`). One zod schema is the single source for
 * validation, defaults, the exported JSON Schema (`autosentry config schema`) and the config
 * reference in README.md (kept in sync by a test).
 *
 * Names and defaults follow the Python tool (inventory §3) except where its default was one of
 * the flaws we do not copy; every such difference is listed in docs/compat.md. Keys whose
 * behaviour arrives in a later issue are parsed and validated already.
 *
 * Objects are strict: an unknown key is an error (with a did-you-mean), never silently ignored.
 * Nested objects use `.prefault({})` so that their inner defaults apply when the key is absent.
 */
import { z } from "zod";
import { SIGNATURE_NAMES } from "../detectors/signatures/names.ts";
import { splitShellWords } from "./shell-words.ts";

// ---------------------------------------------------------------------------------------------
// small building blocks

/** A string; YAML scalars such as `64` or `true` are accepted and kept as their text. */
const scalarString = z.preprocess(
  (v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v),
  z.string(),
);

/** A map of env var names to values; `env:` with no children (null) means `{}`. */
const envMap = z.preprocess((v) => (v === null ? {} : v), z.record(z.string(), scalarString));

/** A list that may be written as null (`detectors:` with no children). */
const nullableList = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === null ? [] : v), z.array(item));

/**
 * An argv. A YAML list is taken as is; a single string is split the way a POSIX shell splits words
 * (quotes and backslashes), without running a shell.
 */
export const argv = z.preprocess(
  (v) => (typeof v === "string" ? splitShellWords(v) : v),
  z.array(scalarString),
);

const seconds = (d: number, desc: string) => z.number().finite().min(0).default(d).describe(desc);

/**
 * A byte size: a number of bytes or a string with a unit (`50MB`, `64KiB`, `1G`).
 * Units are powers of 1024 whether or not the `i` is written.
 */
export const byteSize = z.preprocess((v) => {
  if (typeof v !== "string") return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m) return v;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * mult);
}, z.number().int().positive());

// Moved to shell-words.ts (no zod there, so the monitor's run path can use it without the schema).
export { splitShellWords } from "./shell-words.ts";

/** A user regex. Python spellings (`(?P<name>…)`, a leading `(?i)`) are accepted; see src/config/regex.ts. */
const regexSource = z.string().min(1);

// ---------------------------------------------------------------------------------------------
// signals (issue 11): metric, resource, heartbeat, probe and completion detectors, the adaptive
// stall, checkpoint-aware restarts. Kept in one section so that merges stay easy.

const positiveSeconds = (d: number, desc: string) => z.number().finite().positive().default(d).describe(desc);

/** A signal name (`SIGUSR1`, `USR1`) or null. */
const signalName = z
  .string()
  .transform((v) => (v.toUpperCase().startsWith("SIG") ? v.toUpperCase() : `SIG${v.toUpperCase()}`))
  .pipe(z.string().regex(/^SIG[A-Z0-9]+$/, "must be a signal name such as SIGUSR1"));

/** What a detector's own detections do when no rule of the user's matched them first. */
const ImpliedAction = z
  .enum(["restart", "pause", "abort", "none"])
  .describe(
    "What a detection of this detector does when none of your rules matched it: restart, pause, abort, or none (the agent, or nothing). Your rules are tried first.",
  );

export const MetricSpec = z
  .strictObject({
    series: z
      .string()
      .min(1)
      .describe(
        "Series name: the key read from `key=value` / `key: value` / JSON lines (loss, grad_norm, lr, samples/s), and what rules match as `metric`.",
      ),
    regex: regexSource
      .optional()
      .describe(
        "Read the value with this regex instead (named group `value`, else group 1, else the match).",
      ),
    step_key: z
      .string()
      .default("step")
      .describe("Key of the step number on the same line (for reports, plateau steps and steps lost)."),
    nan: z.boolean().default(true).describe("Fire when the value is NaN or ±Inf (condition `nan`)."),
    spike: z
      .strictObject({
        factor: z.number().positive().default(10).describe("Fire above factor × the rolling median."),
        zscore: z
          .number()
          .positive()
          .optional()
          .describe("Instead: fire above mean + zscore × standard deviation of the window."),
        window: z.number().int().min(2).default(50).describe("Values in the rolling window."),
        min_points: z.number().int().min(1).default(10).describe("Values needed before judging."),
      })
      .optional()
      .describe("Condition `spike`: a value far above its recent past."),
    plateau: z
      .strictObject({
        epsilon: z
          .number()
          .min(0)
          .default(0)
          .describe("An improvement must beat the best value by more than this."),
        mode: z
          .enum(["min", "max"])
          .default("min")
          .describe("min: lower is better (loss); max: higher is (accuracy)."),
        steps: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe("Fire after this many steps without improvement (0 = off)."),
        seconds: z
          .number()
          .min(0)
          .default(0)
          .describe("Fire after this many seconds without improvement (0 = off)."),
        warmup_steps: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe("Steps after the child starts that are not judged."),
        warmup_seconds: z
          .number()
          .min(0)
          .default(0)
          .describe("Seconds after the child starts that are not judged."),
      })
      .refine((p) => p.steps > 0 || p.seconds > 0, { message: "plateau needs steps or seconds" })
      .optional()
      .describe("Condition `plateau`: no improvement for a while (never during the warm-up)."),
    drop: z
      .strictObject({
        percent: z
          .number()
          .positive()
          .max(100)
          .default(50)
          .describe("Low means below this % of the rolling median."),
        seconds: positiveSeconds(120, "For this long."),
        window: z.number().int().min(2).default(60).describe("Values in the rolling window."),
        min_points: z.number().int().min(1).default(10).describe("Values needed before judging."),
      })
      .optional()
      .describe("Condition `drop`: a throughput that falls below x % of its rolling median and stays there."),
    above: z.number().optional().describe("Condition `above`: fire when the value exceeds this bound."),
    below: z.number().optional().describe("Condition `below`: fire when the value falls under this bound."),
  })
  .describe("metric: the series and its conditions.");
export type MetricSpec = z.infer<typeof MetricSpec>;

export const AdaptiveStallSpec = z
  .strictObject({
    factor: z
      .number()
      .positive()
      .default(5)
      .describe("Fire after factor × the median interval between progress lines."),
    floor_seconds: z.number().min(0).default(60).describe("Never fire sooner than this."),
    window: z.number().int().min(2).default(20).describe("Intervals in the median."),
    min_intervals: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe("Intervals a phase needs before its pace is used (until then: no_progress_seconds)."),
    phases: z
      .record(z.string(), regexSource)
      .default({})
      .describe(
        "Named regexes, one per phase (train: 'step (\\d+)', eval: 'eval batch (\\d+)'); each phase has its own pace. Default: metric_regex (or any line) is the one phase.",
      ),
  })
  .describe(
    "stall: follow the observed step rate: fire after max(factor × median step interval, floor_seconds).",
  );

const levels = <T extends z.ZodType>(value: T, what: string) =>
  z.strictObject({
    warn: value.optional().describe(`Warn level (${what}).`),
    critical: value.optional().describe(`Critical level (${what}).`),
  });

export const ResourcesSpec = z
  .strictObject({
    interval_seconds: positiveSeconds(15, "How often the host and the child's process tree are sampled."),
    timeout_seconds: positiveSeconds(10, "A sampling that takes longer is abandoned and reported once."),
    disk: z
      .strictObject({
        paths: z.array(z.string()).min(1).default(["."]).describe("Paths whose filesystems are watched."),
        warn_percent: z.number().min(0).max(100).default(90).describe("Warn at this usage (df's Use%)."),
        critical_percent: z.number().min(0).max(100).default(95).describe("Critical at this usage."),
      })
      .optional()
      .describe("Disk usage of the filesystems holding these paths."),
    memory: levels(byteSize, "available bytes, e.g. 2GB")
      .optional()
      .describe("Host memory available (MemAvailable) below these levels."),
    rss: levels(byteSize, "bytes, e.g. 60GB")
      .optional()
      .describe("The child's resident memory, summed over all its descendants, above these levels."),
    fds: levels(z.number().int().positive(), "open file descriptors")
      .optional()
      .describe("Open file descriptors of the child's process tree above these levels."),
    gpu: z
      .strictObject({
        command: z.string().default("nvidia-smi").describe("The nvidia-smi to run (looked up on PATH)."),
        interval_seconds: positiveSeconds(30, "How often nvidia-smi is asked."),
        memory_percent: levels(z.number().min(0).max(100), "% of GPU memory used")
          .optional()
          .describe("GPU memory use above these levels."),
        util_below_percent: z
          .number()
          .min(0)
          .max(100)
          .optional()
          .describe("Warn when a GPU's utilisation stays below this…"),
        util_seconds: positiveSeconds(300, "…for this long."),
        ecc: z
          .boolean()
          .default(true)
          .describe("Critical when a GPU's volatile uncorrected ECC error count rises."),
        xid_command: argv
          .default(["dmesg"])
          .describe(
            "Command whose output holds the kernel's `NVRM: Xid` lines (nvidia-smi has no Xid query); a new Xid is critical. [] = off.",
          ),
      })
      .optional()
      .describe("GPUs through nvidia-smi, when it is on PATH (skipped silently when it is not)."),
  })
  .describe(
    "resource: what to sample and the levels; rules match `metric: disk|memory|rss|fds|gpu_memory|gpu_util|gpu_ecc|gpu_xid`, `condition: warn|critical`.",
  );

export const HeartbeatSpec = z
  .strictObject({
    path: z.string().optional().describe("A file the job touches; its mtime must stay fresh."),
    sentinel_dir: z
      .string()
      .optional()
      .describe(
        "A directory with the sentinel files .heartbeat (touched), .status (SUCCESS/FAILED), .result.",
      ),
    max_age_seconds: positiveSeconds(60, "Stale when not touched for this long while the child runs."),
    start_period_seconds: seconds(60, "Grace after the child starts before the first touch is due."),
    interval_seconds: positiveSeconds(5, "How often the files are read."),
  })
  .refine((h) => h.path !== undefined || h.sentinel_dir !== undefined, {
    message: "heartbeat needs a path or a sentinel_dir",
  })
  .describe(
    "heartbeat: liveness through a file's mtime (condition `stale`; sentinel .status FAILED: `failed`).",
  );

export const ProbeSpec = z
  .strictObject({
    http: z
      .string()
      .regex(/^https?:\/\//, "must start with http:// or https://")
      .optional()
      .describe("URL to GET; 2xx and 3xx are healthy."),
    tcp: z.string().optional().describe("host:port to connect to."),
    interval_seconds: positiveSeconds(30, "Time between probes."),
    timeout_seconds: positiveSeconds(3, "A probe that takes longer failed."),
    start_period_seconds: seconds(
      0,
      "Failures this soon after the child started do not count (a success ends it early).",
    ),
    failure_threshold: z
      .number()
      .int()
      .positive()
      .default(3)
      .describe("Consecutive failures that make the child unhealthy."),
  })
  .refine((p) => (p.http === undefined) !== (p.tcp === undefined), {
    message: "probe needs exactly one of http, tcp",
  })
  .refine((p) => p.tcp === undefined || /^(?:\[[^\]]+\]|[^:]+):\d{1,5}$/.test(p.tcp), {
    message: "tcp must be host:port",
    path: ["tcp"],
  })
  .describe("probe: an HTTP or TCP health check (condition `unhealthy`).");

export const CompletionSpec = z
  .strictObject({
    marker_regex: regexSource.optional().describe("A line matching this means the work is done."),
    marker_file: z
      .string()
      .optional()
      .describe("A file created after the child started means the work is done."),
    grace_seconds: seconds(
      60,
      "After the marker, wait this long for the child to exit; a child still alive (hung in teardown) is stopped and the run recorded as a success.",
    ),
    interval_seconds: positiveSeconds(5, "How often marker_file is looked for."),
  })
  .refine((c) => c.marker_regex !== undefined || c.marker_file !== undefined, {
    message: "completion needs a marker_regex or a marker_file",
  })
  .describe("completion: the work is done.");

export const ResumeSpec = z
  .strictObject({
    glob: z
      .string()
      .min(1)
      .describe("Checkpoints, relative to process.cwd (ckpt/step-*.pt, runs/*/checkpoint-*)."),
    arg_template: argv
      .default([])
      .describe(
        "Appended to the command when a checkpoint exists; {checkpoint} is its path (--resume {checkpoint}).",
      ),
    step_regex: regexSource
      .optional()
      .describe("Group 1 in the checkpoint's path is its step. Default: the last number in its name."),
    complete_marker: z
      .string()
      .optional()
      .describe("A file that must exist inside a directory checkpoint for it to count as complete."),
    min_age_seconds: seconds(5, "A checkpoint modified more recently than this may still be being written."),
    signal: signalName
      .optional()
      .describe(
        "Sent to the job before a deliberate stop so it can checkpoint (SIGUSR1): local, its process group; slurm, scancel --signal (see process.extra.signal_scope); docker, docker kill --signal.",
      ),
    signal_wait_seconds: seconds(
      60,
      "After the signal, wait up to this long for a new complete checkpoint before SIGTERM.",
    ),
  })
  .describe(
    "Checkpoint-aware restarts: every launch exports AUTOSENTRY_RESUME_FROM (the newest complete checkpoint) and appends arg_template.",
  );
export type ResumeSpec = z.infer<typeof ResumeSpec>;

// ---------------------------------------------------------------------------------------------
// process

export const Lifecycle = z
  .enum(["restart_on_failure", "one_shot", "restart_always"])
  .describe(
    "What a clean exit (code 0) means: restart_on_failure stops the monitor with success, " +
      "one_shot stops after any exit, restart_always relaunches (a clean relaunch is not charged to max_restarts).",
  );

export const RestartPolicy = z
  .strictObject({
    max_restarts: z
      .number()
      .int()
      .default(50)
      .describe("Give up after this many consecutive unverified restarts. 0 or less = unlimited."),
    max_identical_failures: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe(
        "Give up when one failure repeats more than this many times in a row (same signature: detector, kind and message with digits removed): with 3, the 4th identical failure stops the run. 0 = off.",
      ),
    max_restarts_in_window: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Refuse a launch when this many launches happened within restart_window_seconds. 0 = off."),
    restart_window_seconds: z
      .number()
      .finite()
      .positive()
      .default(3600)
      .describe("Window for max_restarts_in_window."),
    backoff: z
      .enum(["fixed", "exponential"])
      .default("exponential")
      .describe(
        "How the wait grows between consecutive restarts: fixed waits cooldown_seconds each time, exponential doubles it up to backoff_max_seconds.",
      ),
    cooldown_seconds: seconds(
      60,
      "Base wait before a restart. A healer's first restart of a failure sequence is immediate; later ones and restart-policy fallbacks wait.",
    ),
    backoff_max_seconds: seconds(900, "Upper bound of the exponential wait."),
    backoff_reset_seconds: seconds(
      600,
      "A child that runs this long without failing ends the failure sequence: the wait and the unverified-restart count start over.",
    ),
    no_retry_exit_codes: z
      .array(z.number().int())
      .default([])
      .describe(
        "Exit codes that mean 'do not try again' (e.g. 78 for a configuration error): the monitor stops instead of restarting.",
      ),
  })
  .describe("When and how often a failed child is relaunched, and when autosentry gives up.");
export type RestartPolicy = z.infer<typeof RestartPolicy>;

/** Kind-specific settings (`process.extra`). Only the keys of the configured kind are used. */
export const ProcessExtra = z
  .strictObject({
    // slurm
    log_pattern: z
      .string()
      .optional()
      .describe(
        "slurm: path of the job's output file; {job_id} is replaced. Default: the sbatch --output file.",
      ),
    status_command: argv.optional().describe("slurm: override for the status query ({job_id} is replaced)."),
    cancel_command: argv.optional().describe("slurm: override for cancelling ({job_id} is replaced)."),
    sacct_command: argv
      .optional()
      .describe("slurm: override for the accounting query ({job_id} is replaced)."),
    poll_interval_seconds: z
      .number()
      .finite()
      .positive()
      .default(15)
      .describe("slurm: how often squeue is asked about the job."),
    signal_scope: z
      .enum(["steps", "batch", "full"])
      .default("steps")
      .describe(
        "slurm: which processes process.resume.signal reaches (scancel --signal): steps = the job's srun steps (SLURM's default, as #SBATCH --signal=USR1), batch = the batch script only (--batch, as --signal=B:USR1; the script must trap it), full = the batch script, its children and the steps (--full).",
      ),
    timeout_requeues: z
      .number()
      .int()
      .min(0)
      .default(3)
      .describe(
        "slurm: how many TIMEOUT endings are resubmitted before giving up (separate from max_restarts).",
      ),
    // docker
    container_name: z
      .string()
      .optional()
      .describe("docker: container name; {name} in the command is replaced. Default autosentry-<8 hex>."),
    log_stream_command: argv.optional().describe("docker: override for following logs ({name} is replaced)."),
    stop_command: argv.optional().describe("docker: override for stopping ({name} is replaced)."),
    remove_command: argv.optional().describe("docker: override for removing ({name} is replaced)."),
    // attach
    pid: z.number().int().positive().optional().describe("attach: the pid to watch."),
    pid_file: z
      .string()
      .optional()
      .describe("attach: file whose first token is the pid; re-read every tick."),
    log_path: z.string().optional().describe("attach: log file to follow from its end."),
    allow_kill: z
      .boolean()
      .default(false)
      .describe("attach: allow abort to signal the attached process (otherwise autosentry only watches)."),
  })
  .describe("Settings for the slurm, docker and attach backends.");

export const StageSpec = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "must match [A-Za-z0-9_-]+")
    .describe("Unique stage name."),
  command: argv.pipe(z.array(z.string()).min(1)).describe("The stage's argv."),
  cwd: z.string().optional().describe("Working directory (default: process.cwd)."),
  env: envMap.default({}).describe("Merged over process.env."),
  restart_policy: RestartPolicy.optional().describe(
    "Replaces process.restart_policy as a whole for this stage.",
  ),
  lifecycle: Lifecycle.optional(),
  max_stage_seconds: z.number().finite().min(0).optional().describe("Deadline for this stage; 0 = none."),
  required_executables: z
    .array(z.string())
    .default([])
    .describe("Added to process.required_executables for this stage."),
  required_env: z.array(z.string()).default([]).describe("Added to process.required_env for this stage."),
});
export type StageSpec = z.infer<typeof StageSpec>;

export const ProcessConfig = z
  .strictObject({
    kind: z
      .enum(["local", "slurm", "docker", "attach"])
      .default("local")
      .describe("Which backend runs the work."),
    command: argv
      .default([])
      .describe(
        "The command to supervise, as an argv list (no shell). A string is split into words like a shell would, without running one.",
      ),
    cwd: z.string().default(".").describe("Working directory of the child, relative to the project root."),
    env: envMap.default({}).describe("Variables set for the child on top of the monitor's environment."),
    lifecycle: Lifecycle.default("restart_on_failure"),
    stop_grace_seconds: seconds(
      30,
      "On stop: SIGTERM to the process group, wait this long, then SIGKILL to the group.",
    ),
    max_stage_seconds: seconds(0, "Pipeline stage deadline; 0 = off."),
    stage_stop_grace_seconds: z
      .number()
      .finite()
      .positive()
      .default(5)
      .describe("Grace period for cancelled stages."),
    required_executables: z
      .array(z.string())
      .default([])
      .describe("Executables that must resolve before launch (run --check)."),
    required_env: z
      .array(z.string())
      .default([])
      .describe("Environment variables that must be non-empty before launch."),
    restart_policy: RestartPolicy.prefault({}),
    stages: nullableList(StageSpec)
      .default([])
      .describe("Pipeline stages, run in order. Exclusive with command."),
    extra: z
      .preprocess((v) => (v === null ? {} : v), ProcessExtra)
      .prefault({})
      .describe("Backend-specific settings."),
    // issue 11
    max_run_seconds: seconds(
      0,
      "Wall-clock limit of one run of the command (not of a pipeline): the child is stopped and the monitor ends with exit class max_run (exit 124). 0 = off.",
    ),
    resume: ResumeSpec.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.command.length > 0 && p.stages.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["stages"],
        message: "process.command and process.stages are exclusive",
      });
    }
    const seen = new Set<string>();
    p.stages.forEach((s, i) => {
      if (seen.has(s.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["stages", i, "name"],
          message: `duplicate stage name "${s.name}"`,
        });
      }
      seen.add(s.name);
    });
  });
export type ProcessConfig = z.infer<typeof ProcessConfig>;

// ---------------------------------------------------------------------------------------------
// monitor

export const MonitorConfig = z.strictObject({
  poll_interval_seconds: z
    .number()
    .finite()
    .positive()
    .default(30)
    .describe(
      "How often backends without their own setting are polled for status. Time-based checks (stall, watchdog, verification) run every second regardless.",
    ),
  stall_timeout_seconds: seconds(
    1800,
    "A monitor whose heartbeat is older than this is reported stale (probe).",
  ),
  heartbeat_seconds: z
    .number()
    .finite()
    .positive()
    .default(5)
    .describe(
      "state.json is rewritten when something changes, and at most this often for the heartbeat alone.",
    ),
  log_dir: z.string().default(".autosentry/logs").describe("autosentry.log, process.log, events.jsonl."),
  log_tail_lines: z
    .number()
    .int()
    .min(0)
    .default(2000)
    .describe("Lines of process.log that explain includes."),
  log_excerpt_lines: z
    .number()
    .int()
    .min(0)
    .default(200)
    .describe("Lines before a failure copied into the incident's log_excerpt.txt."),
  log_excerpt_after_lines: z
    .number()
    .int()
    .min(0)
    .default(50)
    .describe("Lines after a failure (from the same child) appended to log_excerpt.txt."),
  settle_seconds: seconds(
    2,
    "After a first detection, how long to gather related detections of the same failure (a traceback, then the exit) before deciding. The child's exit ends the wait early.",
  ),
  dead_child_grace_seconds: seconds(
    900,
    "Stop the monitor when no child has been alive this long and nothing is scheduled to start one; 0 = off.",
  ),
  max_line_length: z
    .number()
    .int()
    .min(256)
    .default(65536)
    .describe("Longer lines are cut to this many characters with a marker; memory stays bounded."),
  process_log_max_bytes: byteSize
    .default(50 * 1024 * 1024)
    .describe("Rotate process.log at this size (50MB)."),
  process_log_backups: z
    .number()
    .int()
    .min(0)
    .default(5)
    .describe("Rotated process.log files kept (process.log.1 … .N)."),
  // issue 11
  metrics_dir: z
    .string()
    .default(".autosentry/metrics")
    .describe("Metric series for the web viewer, one <series>.jsonl each (docs/signals.md)."),
  metrics_max_points: z
    .number()
    .int()
    .min(10)
    .default(10000)
    .describe("Points kept per series on disk (the file holds between this and twice this many)."),
});
export type MonitorConfig = z.infer<typeof MonitorConfig>;

// ---------------------------------------------------------------------------------------------
// source_explode

export const SourceExplodeConfig = z.strictObject({
  enabled: z.boolean().default(true).describe("Render the source around each stack frame into the incident."),
  context_lines: z
    .number()
    .int()
    .min(0)
    .default(10)
    .describe("Lines either side of the frame's line when no enclosing scope is found."),
  scope_window_lines: z
    .number()
    .int()
    .min(5)
    .default(60)
    .describe("A longer enclosing function is cut to this many lines around the frame's line."),
  languages: z
    .array(z.enum(["python", "javascript", "typescript", "tsx", "go", "rust", "java"]))
    .default(["python", "javascript", "typescript", "tsx", "go", "rust", "java"])
    .describe("Languages parsed with tree-sitter; others get a plain line window."),
  skip_paths: z
    .array(z.string())
    .default(["site-packages/", ".venv/", "node_modules/", "/usr/lib/"])
    .describe("Frames whose path contains one of these are listed but not rendered (library code)."),
  max_frames: z.number().int().min(0).default(20).describe("Rendered frames per incident, innermost first."),
});

// ---------------------------------------------------------------------------------------------
// detectors and rules

export const DetectorSpec = z
  .strictObject({
    kind: z
      .enum([
        "pattern",
        "traceback",
        "stall",
        "exit_code",
        "metric",
        "resource",
        "heartbeat",
        "probe",
        "completion",
      ])
      .describe("What the detector watches."),
    name: z
      .string()
      .optional()
      .describe(
        "Name used by rules and reports. Default: pattern_<index> for pattern, the series for metric, else the kind.",
      ),
    regex: regexSource.optional().describe("pattern: a line matching this regex fires."),
    stream: z
      .enum(["any", "stdout", "stderr"])
      .default("any")
      .describe("pattern: only look at lines from this stream."),
    metric_regex: regexSource
      .optional()
      .describe(
        "stall: group 1 (or the whole match) is a progress number; it must advance, not merely change. Without it, any output counts as progress.",
      ),
    no_progress_seconds: z
      .preprocess((v) => (v === null ? undefined : v), z.number().finite().positive().default(1800))
      .describe("stall: fire after this long without progress while the child is alive."),
    nonzero_only: z.boolean().default(true).describe("exit_code: ignore exits with code 0."),
    cooldown_seconds: z
      .number()
      .finite()
      .min(0)
      .optional()
      .describe(
        "Minimum time between two detections of this detector. Default 60 (0 for exit_code and for metric, resource, heartbeat, probe and completion, which fire once per occurrence).",
      ),
    // issue 11
    metric: MetricSpec.optional(),
    adaptive: AdaptiveStallSpec.optional(),
    resources: ResourcesSpec.optional(),
    heartbeat: HeartbeatSpec.optional(),
    probe: ProbeSpec.optional(),
    completion: CompletionSpec.optional(),
    action: ImpliedAction.optional(),
  })
  .superRefine((d, ctx) => {
    // issue 11: each kind's own section, required for its kind and refused elsewhere
    const own = {
      metric: "metric",
      resource: "resources",
      heartbeat: "heartbeat",
      probe: "probe",
      completion: "completion",
    } as const;
    for (const [kind, key] of Object.entries(own)) {
      if (d.kind === kind && d[key] === undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: `a ${kind} detector needs a ${key} section` });
      }
      if (d.kind !== kind && d[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `${key} is only used by ${kind} detectors (this one is ${d.kind})`,
        });
      }
    }
    if (d.kind !== "stall" && d.adaptive !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["adaptive"],
        message: "adaptive is only used by stall detectors",
      });
    }
    if (d.kind === "pattern" && !d.regex) {
      ctx.addIssue({ code: "custom", path: ["regex"], message: "a pattern detector needs a regex" });
    }
    if (d.kind !== "pattern" && d.regex) {
      ctx.addIssue({
        code: "custom",
        path: ["regex"],
        message: `regex is only used by pattern detectors (this one is ${d.kind})`,
      });
    }
    if (d.kind !== "stall" && d.metric_regex) {
      ctx.addIssue({
        code: "custom",
        path: ["metric_regex"],
        message: "metric_regex is only used by stall detectors",
      });
    }
  });
export type DetectorSpec = z.infer<typeof DetectorSpec>;

export const ActionSpec = z
  .strictObject({
    kind: z
      .enum(["restart", "restart_with_env", "pause", "abort", "custom_command"])
      .describe("What to do when the rule matches."),
    set: envMap
      .default({})
      .describe(
        "restart_with_env: variables to set; a value may be `half` or `double` of the current value, or scale it by a factor (`*0.5`, `*2`).",
      ),
    command: argv.default([]).describe("custom_command: argv to run (no shell)."),
    timeout_seconds: z
      .number()
      .finite()
      .positive()
      .default(300)
      .describe("custom_command: kill the command (and its process group) after this long."),
    notify: z.boolean().default(true).describe("Send a notification when the action is applied."),
  })
  .superRefine((a, ctx) => {
    if (a.kind === "restart_with_env" && Object.keys(a.set).length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["set"],
        message: "restart_with_env needs at least one variable in set",
      });
    }
    if (a.kind === "custom_command" && a.command.length === 0) {
      ctx.addIssue({ code: "custom", path: ["command"], message: "custom_command needs a command" });
    }
  });
export type ActionSpec = z.infer<typeof ActionSpec>;

export const RuleSpec = z.strictObject({
  name: z
    .string()
    .optional()
    .describe("Name shown in reports and the ledger. Default: the matched detector's name."),
  match: z
    .strictObject({
      detector: z.string().optional().describe("Detector name that must have fired."),
      message_regex: regexSource.optional().describe("Regex searched in the detection's message."),
      exception_type: z
        .string()
        .optional()
        .describe(
          "Exception type in the trace (final or chained), e.g. torch.OutOfMemoryError; a name without dots also matches the last part.",
        ),
      signature: z
        .enum(SIGNATURE_NAMES)
        .optional()
        .describe(
          "Name of a built-in signature the detection matched (cuda_oom, oom_killer, …; see docs/detection.md).",
        ),
      // issue 11
      metric: z
        .string()
        .optional()
        .describe(
          "The series or resource a detection is about (loss, samples/s, disk, rss, gpu_xid, heartbeat, health).",
        ),
      condition: z
        .string()
        .optional()
        .describe(
          "The condition that fired: nan, spike, plateau, drop, above, below, warn, critical, stale, failed, unhealthy.",
        ),
    })
    .refine(
      (m) =>
        m.detector !== undefined ||
        m.message_regex !== undefined ||
        m.exception_type !== undefined ||
        m.signature !== undefined ||
        m.metric !== undefined ||
        m.condition !== undefined,
      {
        message:
          "match needs at least one of detector, message_regex, exception_type, signature, metric, condition",
      },
    ),
  action: ActionSpec,
});
export type RuleSpec = z.infer<typeof RuleSpec>;

// ---------------------------------------------------------------------------------------------
// healing

export const ClaudeConfig = z.strictObject({
  enabled: z
    .union([z.boolean(), z.literal("auto")])
    .default("auto")
    .describe("Use a coding agent when no rule matches: true, false or auto (when one is available)."),
  mode: z
    .enum(["auto", "subprocess", "interactive", "session", "api", "langgraph"])
    .default("auto")
    .describe(
      "subprocess runs the claude CLI; interactive waits for `autosentry healer respond`; session hands incidents to a Claude Code session; api calls the Messages API directly (langgraph is accepted as api).",
    ),
  command: argv
    .default(["claude"])
    .describe("subprocess: the agent CLI (its flags are added by autosentry)."),
  max_turns: z.number().int().positive().default(30).describe("subprocess: turn cap passed to the CLI."),
  timeout_seconds: z
    .number()
    .finite()
    .positive()
    .default(600)
    .describe("Kill the agent (its whole process group) or stop waiting after this long."),
  prompt_template: z
    .string()
    .default(".autosentry/prompts/recovery.md")
    .describe("Prompt template; the built-in one is used when the file is missing."),
  include_in_context: z
    .array(z.enum(["state", "last_incident", "config_snapshots"]))
    .default(["state", "last_incident", "config_snapshots"])
    .describe("Evidence put in the prompt."),
  request_path: z.string().default(".autosentry/recovery_request.md").describe("interactive: request file."),
  response_path: z
    .string()
    .default(".autosentry/recovery_response.md")
    .describe("interactive: response file."),
  subagents: z
    .record(
      z.string(),
      z.strictObject({
        type: z.string().default("general-purpose").describe("Subagent type to ask for."),
        description: z
          .string()
          .default("Diagnose an autosentry incident")
          .describe("Task description given to the subagent."),
      }),
    )
    .default({})
    .describe("interactive: subagent hint per detector name (or `default`)."),
  api: z
    .strictObject({
      provider: z
        .enum(["anthropic", "openai"])
        .default("anthropic")
        .describe(
          "api: the wire protocol: anthropic (Messages API) or openai (Chat Completions, as OpenAI, vLLM, Ollama and llama.cpp serve it).",
        ),
      base_url: z
        .string()
        .default("https://api.anthropic.com")
        .describe(
          "api: the API's base URL (left at this default with provider openai: https://api.openai.com).",
        ),
      model: z.string().default("claude-sonnet-4-5").describe("api: model name."),
      api_key_env: z
        .string()
        .default("ANTHROPIC_API_KEY")
        .describe(
          "api: env var holding the key (left at this default with provider openai: OPENAI_API_KEY, which a local server may not need).",
        ),
      max_steps: z
        .number()
        .int()
        .positive()
        .default(8)
        .describe("api: tool-use rounds before it must answer."),
      request_timeout_seconds: z
        .number()
        .finite()
        .positive()
        .default(120)
        .describe("api: timeout of one request."),
    })
    .prefault({}),
});

export const HealingConfig = z
  .strictObject({
    claude: ClaudeConfig.prefault({}),
    langgraph: z
      .strictObject({
        enabled: z.boolean().default(false).describe("true selects the api mode."),
        provider: z
          .enum(["anthropic", "openai", "google"])
          .default("anthropic")
          .describe("LLM provider of the Python tool's LangGraph healer."),
        model: z.string().default("claude-haiku-4-5").describe("Model of the LangGraph healer."),
        temperature: z.number().default(0).describe("Sampling temperature of the LangGraph healer."),
        max_steps: z
          .number()
          .int()
          .positive()
          .default(3)
          .describe("Diagnose and cross-check rounds of the LangGraph healer."),
        request_timeout_seconds: z
          .number()
          .finite()
          .positive()
          .default(120)
          .describe("Timeout of one LLM call of the LangGraph healer."),
        cross_check: z
          .strictObject({
            enabled: z
              .boolean()
              .default(false)
              .refine((v) => v === false, {
                message:
                  "not supported: autosentry has no second-model cross-check; remove the key or set it to false",
              })
              .describe(
                "Not supported (must stay false): the Python tool's second-model check of the diagnosis.",
              ),
            provider: z
              .enum(["anthropic", "openai", "google"])
              .default("openai")
              .describe("Provider of the cross-checking model."),
            model: z.string().default("gpt-4o-mini").describe("The cross-checking model."),
          })
          .prefault({}),
      })
      .prefault({})
      .describe(
        "The Python tool's headless healer: enabled: true selects the api mode with this provider (anthropic or openai), model, max_steps and timeout.",
      ),
    git: z
      .strictObject({
        enabled: z.boolean().default(true).describe("Put agent fixes on their own branch."),
        branch_prefix: z
          .string()
          .default("autosentry/fix-")
          .describe("Fix branches are named this prefix followed by the incident id."),
        auto_merge: z
          .boolean()
          .default(false)
          .describe("Bring a kept fix onto your branch (only when that is clean)."),
        write_enabled: z.boolean().default(true).describe("false: record the diff but create no branch."),
      })
      .prefault({}),
    github: z
      .strictObject({
        open_pr: z.boolean().default(false).describe("Push a kept fix and open a pull request."),
        api_url: z.string().default("https://api.github.com").describe("GitHub (Enterprise) API base URL."),
        token_env: z.string().default("GITHUB_TOKEN").describe("Env var holding the GitHub token."),
        remote: z.string().default("origin").describe("Git remote that fix branches are pushed to."),
        repo: z
          .string()
          .regex(/^[^/\s]+\/[^/\s]+$/, "must be owner/name")
          .optional()
          .describe("owner/name of the repository; default: read from the remote's URL."),
      })
      .prefault({}),
    budget: z
      .strictObject({
        max_attempts_per_detector_per_hour: z
          .number()
          .int()
          .default(60)
          .describe(
            "Healing attempts per detector per rolling hour; past it healing pauses for that detector. 0 = off.",
          ),
        max_wall_seconds_per_incident: z
          .number()
          .finite()
          .positive()
          .default(7200)
          .describe("Upper bound on the time spent healing one incident."),
      })
      .prefault({}),
    verify_window_seconds: seconds(
      600,
      "An action is kept when the same failure does not come back within this window.",
    ),
    verify_match: z
      .enum(["fingerprint", "detector"])
      .default("fingerprint")
      .describe(
        "What counts as the same failure: same detector and fingerprint, or the same detector alone.",
      ),
    regression_action: z
      .enum(["revert", "escalate", "ignore"])
      .default("revert")
      .describe(
        "When an agent fix's failure comes back within the window: revert discards the fix branch, escalate pauses healing for the detector and notifies, ignore does nothing.",
      ),
    escalate_to_claude_after: z
      .preprocess((v) => (v === null ? undefined : v), z.number().int().default(2))
      .describe("Hand a failure to the agent after this many unverified restarts (0 or less means 2)."),
    escalate_on_rule_regression: z
      .boolean()
      .default(true)
      .describe("When a rule's action does not hold, hand that detector's next failure to the agent."),
  })
  .superRefine((h, ctx) => {
    // The LangGraph settings drive the api mode when it is selected through them; a provider we do
    // not speak must fail here rather than be routed silently to another one.
    const used = h.langgraph.enabled || h.claude.mode === "langgraph";
    if (used && h.langgraph.provider === "google") {
      ctx.addIssue({
        code: "custom",
        path: ["langgraph", "provider"],
        message:
          "google is not supported: use anthropic, or openai for any OpenAI-compatible server (vLLM, Ollama, llama.cpp)",
      });
    }
  });

// ---------------------------------------------------------------------------------------------
// notifiers, dispatch, vault, redaction

export const NotifierSpec = z
  .strictObject({
    kind: z
      .enum(["log", "slack_outbox", "discord_outbox", "webhook", "command"])
      .describe(
        "log writes to autosentry.log; slack_outbox and discord_outbox append to a JSONL outbox that `autosentry dispatcher run` (or `dispatch.bridge`) delivers; webhook POSTs JSON; command runs an argv with the notification as JSON on stdin.",
      ),
    outbox_path: z
      .string()
      .optional()
      .describe("Outbox file (default .autosentry/slack_outbox.jsonl or .autosentry/discord_outbox.jsonl)."),
    channel: z.string().optional().describe("slack_outbox, discord_outbox: channel id."),
    thread_key: z.string().optional().describe("slack_outbox, discord_outbox: logical thread label."),
    // outbox rotation (like autosentry.log: 10 MB × 3); the dispatcher follows rotated files by inode
    outbox_max_bytes: byteSize
      .optional()
      .describe(
        "slack_outbox, discord_outbox: rotate the outbox at this size (default 10MB); the dispatcher reads rotated files to their end first.",
      ),
    outbox_backups: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("slack_outbox, discord_outbox: rotated outbox files kept (<outbox>.1 … .N; default 3)."),
    url: z.string().optional().describe("webhook: URL to POST to."),
    headers: z.record(z.string(), z.string()).default({}).describe("webhook: extra request headers."),
    timeout_seconds: z
      .number()
      .finite()
      .positive()
      .default(10)
      .describe("webhook: per-request timeout; command: how long the program may run."),
    retries: z.number().int().min(0).default(3).describe("webhook: retries with backoff after a failure."),
    events: z
      .array(z.enum(["start", "anomaly", "recovery", "milestone", "exit", "heartbeat"]))
      .optional()
      .describe("Only these notification kinds (default: all)."),
    // --- issue 10: notifiers (signing, command, detector filter, folding) ---
    detectors: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Only notifications about these detectors (default: all; notifications about no detector always pass).",
      ),
    fold_window_seconds: z
      .number()
      .finite()
      .min(0)
      .default(600)
      .describe(
        "Repeats of one failure (same fingerprint) within this window fold into one message with a count; 0 = never fold.",
      ),
    secret_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
      .optional()
      .describe(
        "webhook: environment variable holding the shared secret; the body is signed with HMAC-SHA256.",
      ),
    signature_header: z
      .string()
      .default("X-Autosentry-Signature")
      .describe("webhook: header carrying `sha256=<hex HMAC of the body>` when secret_env is set."),
    argv: z
      .array(z.string())
      .optional()
      .describe("command: the program and its arguments (no shell); the notification is JSON on stdin."),
  })
  .superRefine((n, ctx) => {
    if (n.kind === "command" && (!n.argv || n.argv.length === 0))
      ctx.addIssue({ code: "custom", path: ["argv"], message: "a command notifier needs an argv" });
    if (n.kind === "webhook" && !n.url)
      ctx.addIssue({ code: "custom", path: ["url"], message: "a webhook notifier needs a url" });
    if (n.url !== undefined && !/^https?:\/\//.test(n.url)) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "url must start with http:// or https://" });
    }
  });
export type NotifierSpec = z.infer<typeof NotifierSpec>;

export const DispatchConfig = z.strictObject({
  mode: z
    .enum(["builtin", "session"])
    .default("builtin")
    .describe(
      "builtin: autosentry heals incidents itself; session: a Claude Code session does (autosentry probe, session apply).",
    ),
  request_marker: z
    .string()
    .default(".autosentry/session_dispatch_request")
    .describe("session: file touched when an incident waits for the session."),
  cursor_path: z
    .string()
    .default(".autosentry/session_dispatch_cursor")
    .describe("session: the last incident the session has taken."),
  action_queue_path: z
    .string()
    .default(".autosentry/session_actions.jsonl")
    .describe("session: JSONL queue of actions written by `autosentry session apply`."),
  action_cursor_path: z
    .string()
    .default(".autosentry/session_action_cursor")
    .describe("session: the last queued action the monitor applied."),
  // --- issue 10: the chat dispatcher ---
  bridge: z
    .boolean()
    .default(false)
    .describe(
      "Run the chat dispatcher inside the monitor (delivers the outboxes, reads commands from the threads); otherwise run `autosentry dispatcher run`.",
    ),
  allowed_users: z
    .array(z.string().min(1))
    .default([])
    .describe(
      "Chat user ids whose thread commands are obeyed (`U0123ABCD` or `slack:U0123ABCD`, `discord:1234…`); empty = anyone in the thread.",
    ),
  poll_seconds: z
    .number()
    .finite()
    .min(0.2)
    .default(5)
    .describe("How often the dispatcher looks for new outbox lines, due retries and thread replies."),
});

// --- issue 10: links from notifications to the web viewer ---
export const WebConfig = z.strictObject({
  public_url: z
    .string()
    .regex(/^https?:\/\//, "must start with http:// or https://")
    .optional()
    .describe(
      "Address people use to reach `autosentry web`; notifications link to `<public_url>/incidents/<id>`.",
    ),
});

export const VaultConfig = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe("Write Obsidian-compatible notes of runs, incidents and patterns."),
  path: z.string().default(".autosentry/vault").describe("Where the notes go."),
  pattern_threshold: z
    .number()
    .int()
    .positive()
    .default(3)
    .describe("Similar incidents of one detector needed before a pattern note is written."),
  similarity_threshold: z
    .number()
    .min(0)
    .max(1)
    .default(0.3)
    .describe("How different (edit distance / length) two messages may be and still be one pattern."),
  narratives: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .refine((v) => v === false, {
          message:
            "not supported: autosentry writes its notes without LLM narratives; remove the key or set it to false",
        })
        .describe("Not supported (must stay false): the Python tool's LLM-written narratives in notes."),
      provider: z.enum(["anthropic", "openai", "google"]).default("anthropic").describe("LLM provider."),
      model: z.string().default("claude-haiku-4-5").describe("LLM model."),
      request_timeout_seconds: z
        .number()
        .finite()
        .positive()
        .default(30)
        .describe("Timeout of one LLM call."),
    })
    .prefault({}),
});

export const RedactionConfig = z.strictObject({
  extra_patterns: z
    .array(regexSource)
    .default([])
    .describe("More regexes whose matches (or group 1) are replaced by [REDACTED]."),
  allow: z.array(z.string()).default([]).describe("Values that are never redacted."),
});

// ---------------------------------------------------------------------------------------------
// signatures (the built-in signature pack, src/detectors/signatures/)

export const SignaturesConfig = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      "Use the built-in signature pack: name failures (cuda_oom, oom_killer, nccl_watchdog_timeout, …) with a one-line explanation, and detect the ones that print no traceback (the OOM killer's Killed, segfaults, launcher summaries).",
    ),
  disabled: nullableList(z.enum(SIGNATURE_NAMES))
    .default([])
    .describe("Signatures switched off by name (see docs/detection.md for the list)."),
});

// ---------------------------------------------------------------------------------------------
// the whole file

export const Config = z.strictObject({
  process: ProcessConfig.prefault({}),
  monitor: MonitorConfig.prefault({}),
  source_explode: SourceExplodeConfig.prefault({}),
  detectors: nullableList(DetectorSpec)
    .default([])
    .describe("What to watch for. An exit_code detector is implied."),
  rules: nullableList(RuleSpec).default([]).describe("Known answers, tried top-down; the first match wins."),
  signatures: SignaturesConfig.prefault({}),
  healing: HealingConfig.prefault({}),
  dispatch: DispatchConfig.prefault({}),
  notifiers: nullableList(NotifierSpec)
    .default([
      {
        kind: "log",
        headers: {},
        timeout_seconds: 10,
        retries: 3,
        fold_window_seconds: 600,
        signature_header: "X-Autosentry-Signature",
      },
    ])
    .describe("Where notifications go."),
  vault: VaultConfig.prefault({}),
  redaction: RedactionConfig.prefault({}),
  web: WebConfig.prefault({}),
  config_snapshots: nullableList(z.string())
    .default([])
    .describe("Files copied (redacted) into every incident."),
  state_path: z
    .string()
    .default(".autosentry/state.json")
    .describe("The monitor's state file (read by status and probe)."),
  incidents_dir: z
    .string()
    .default(".autosentry/incidents")
    .describe("Incident folders and their index.jsonl."),
});

/** The validated configuration as the program uses it. */
export type ConfigData = z.infer<typeof Config>;
