/**
 * @module
 * SLURM job states and what they mean to the monitor, plus parsers for the output of `squeue`,
 * `sacct` and `scontrol show job` (as printed by SLURM 22.05; later versions print the same
 * fields).
 *
 * Every state SLURM documents is either *active* (the job may still produce output or run again
 * under the same id: pending, running, suspended, requeued, completing, …) or *terminal* with an
 * exit class. A state we do not know is treated as "unknown, ask again", never as finished.
 *
 * Decisions (for docs/compat.md):
 * - PREEMPTED and NODE_FAIL are the scheduler's doing: `preempted` / `node_fail`, which the monitor
 *   relaunches without charging max_restarts. BOOT_FAIL (the node never came up for the job) is an
 *   infrastructure failure like NODE_FAIL, so it is `node_fail` too.
 * - TIMEOUT is `timeout` (its own `timeout_requeues` budget). DEADLINE is *not* a timeout: the job's
 *   own `--deadline` passed, and resubmitting with the same deadline cannot succeed, so it is
 *   `cancelled` (the scheduler cancelled it), with the state in the detail.
 * - OUT_OF_MEMORY is `oom`. CANCELLED and REVOKED (a federated sibling ran elsewhere) are
 *   `cancelled`, unless the monitor asked for the stop (then `stopped`).
 * - FAILED is `failure` with the batch script's exit code; a FAILED job whose ExitCode carries a
 *   signal (`0:9`) is `signal` with code 128+N. SPECIAL_EXIT is `failure`.
 * - COMPLETED is the only `success`. A missing exit code never becomes 0.
 */
import type { ExitClass } from "../../core/types.ts";
import { signalName } from "../../util/proc.ts";

/** States in which the job is not finished (it may run, or run again under the same id). */
const ACTIVE = new Set([
  "PENDING",
  "PD",
  "RUNNING",
  "R",
  "CONFIGURING",
  "CF",
  "COMPLETING",
  "CG",
  "SUSPENDED",
  "S",
  "STOPPED",
  "ST",
  "REQUEUED",
  "RQ",
  "REQUEUE_HOLD",
  "RH",
  "REQUEUE_FED",
  "RF",
  "RESIZING",
  "RS",
  "RESV_DEL_HOLD",
  "RD",
  "SIGNALING",
  "SI",
  "STAGE_OUT",
  "SO",
  "POWER_UP_NODE",
  "PU",
  "UPDATE_DB",
  "UD",
]);

/** Terminal states (long and compact spellings) and their exit class. */
const TERMINAL: Record<string, ExitClass> = {
  COMPLETED: "success",
  CD: "success",
  FAILED: "failure",
  F: "failure",
  SPECIAL_EXIT: "failure",
  SE: "failure",
  TIMEOUT: "timeout",
  TO: "timeout",
  OUT_OF_MEMORY: "oom",
  OOM: "oom",
  NODE_FAIL: "node_fail",
  NF: "node_fail",
  BOOT_FAIL: "node_fail",
  BF: "node_fail",
  PREEMPTED: "preempted",
  PR: "preempted",
  CANCELLED: "cancelled",
  CA: "cancelled",
  DEADLINE: "cancelled",
  DL: "cancelled",
  REVOKED: "cancelled",
  RV: "cancelled",
};

/** The long name of a state (`CD` → `COMPLETED`) for messages. */
const LONG: Record<string, string> = {
  PD: "PENDING",
  R: "RUNNING",
  CF: "CONFIGURING",
  CG: "COMPLETING",
  S: "SUSPENDED",
  ST: "STOPPED",
  RQ: "REQUEUED",
  RH: "REQUEUE_HOLD",
  RF: "REQUEUE_FED",
  RS: "RESIZING",
  RD: "RESV_DEL_HOLD",
  SI: "SIGNALING",
  SO: "STAGE_OUT",
  CD: "COMPLETED",
  F: "FAILED",
  SE: "SPECIAL_EXIT",
  TO: "TIMEOUT",
  OOM: "OUT_OF_MEMORY",
  NF: "NODE_FAIL",
  BF: "BOOT_FAIL",
  PR: "PREEMPTED",
  CA: "CANCELLED",
  DL: "DEADLINE",
  RV: "REVOKED",
};

/**
 * Normalise a state word as the tools print it: `CANCELLED by 1000` → `CANCELLED`,
 * `RUNNING+` (sacct's truncation mark) → `RUNNING`, compact codes → long names.
 */
export function normaliseState(raw: string): string {
  const word = (raw.trim().split(/\s+/)[0] ?? "").replace(/\+$/, "").toUpperCase();
  return LONG[word] ?? word;
}

export type StateKind = "active" | "terminal" | "unknown";

/** Whether a (normalised or raw) state is active, terminal or unknown to us. */
export function stateKind(state: string): StateKind {
  const s = normaliseState(state);
  if (s === "") return "unknown";
  if (ACTIVE.has(s)) return "active";
  if (s in TERMINAL) return "terminal";
  return "unknown";
}

/** The exit class of a terminal state; null for anything else. */
export function terminalClass(state: string): ExitClass | null {
  return TERMINAL[normaliseState(state)] ?? null;
}

/** `ExitCode=3:0` → {code 3, signal 0}. Null when it cannot be read. */
export function parseExitCode(text: string | undefined | null): { code: number; signal: number } | null {
  if (!text) return null;
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  if (!m) return null;
  return { code: Number(m[1]), signal: Number(m[2]) };
}

/** What SLURM said about one finished job. */
export interface JobOutcome {
  state: string;
  /** `N:S` as printed, when known. */
  exitCode: string | null;
  /** Which query answered (`sacct`, `scontrol`, `sacct -c`, `squeue`). */
  source: string;
  /** Extra words after the state (`by 1000` for CANCELLED). */
  note?: string;
}

/**
 * The exit class, code and signal of a finished job. `stopped` is the monitor's own stop; otherwise
 * the state decides (see the module comment). A scheduler outcome without a meaningful exit code
 * (`0:0`) has code null rather than a misleading 0.
 */
export function classifyOutcome(
  o: JobOutcome,
  stopped: boolean,
): { exitClass: ExitClass; code: number | null; signal: string | null; detail: string } {
  const state = normaliseState(o.state);
  const ec = parseExitCode(o.exitCode);
  const sig = ec !== null && ec.signal > 0 ? ec.signal : 0;
  const signal = sig > 0 ? signalName(sig) : null;
  let code: number | null = null;
  if (ec !== null) {
    if (sig > 0) code = 128 + sig;
    else if (ec.code !== 0) code = ec.code;
  }
  let exitClass: ExitClass = terminalClass(state) ?? "unknown";
  if (exitClass === "failure" && sig > 0) exitClass = "signal";
  // COMPLETED always means exit 0, even when no query showed the exit code.
  if (exitClass === "success") code = 0;
  if (stopped) exitClass = "stopped";
  const detail = `slurm state ${state}${o.note ? ` ${o.note}` : ""}${o.exitCode ? ` ExitCode=${o.exitCode}` : ""} (${o.source})`;
  return { exitClass, code, signal, detail };
}

/** First word of the first non-empty line: the state column of `squeue -o %T`. */
export function parseSqueue(stdout: string): string | null {
  for (const line of stdout.split("\n")) {
    const t = line.trim();
    if (t) return normaliseState(t.split("|")[0] ?? t);
  }
  return null;
}

/**
 * Rows of `sacct -n -P -o JobID,State,ExitCode` (also `sacct -c`) for job `jobId`, in order. Steps
 * (`123.batch`) and other jobs are skipped. A requeued job has one row per run: the last is newest.
 */
export function parseSacct(stdout: string, jobId: string, source: string): JobOutcome[] {
  const out: JobOutcome[] = [];
  for (const line of stdout.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    const f = t.split("|");
    if (f.length < 2) continue;
    if ((f[0] ?? "").trim() !== jobId) continue;
    const stateField = (f[1] ?? "").trim();
    const words = stateField.split(/\s+/);
    const note = words.slice(1).join(" ");
    const o: JobOutcome = {
      state: normaliseState(stateField),
      exitCode: (f[2] ?? "").trim() || null,
      source,
    };
    if (note) o.note = note;
    out.push(o);
  }
  return out;
}

/** `Key=Value` fields of `scontrol show job -o ID` (one line; values have no spaces except the last ones). */
export function parseScontrol(stdout: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const text = stdout.replace(/\n/g, " ");
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=(\S*)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const k = m[1]!;
    if (!(k in fields)) fields[k] = m[2]!;
  }
  return fields;
}

/** The job's state and exit code from `scontrol show job`, or null when it does not show one. */
export function scontrolOutcome(stdout: string): JobOutcome | null {
  const f = parseScontrol(stdout);
  const state = f["JobState"];
  if (!state) return null;
  return { state: normaliseState(state), exitCode: f["ExitCode"] ?? null, source: "scontrol" };
}

/** The job id in sbatch's output: `--parsable` (`123` or `123;cluster`) or `Submitted batch job 123`. */
export function parseSbatchOutput(stdout: string): string | null {
  const classic = /Submitted batch job (\d+)/.exec(stdout);
  if (classic) return classic[1]!;
  for (const line of stdout.split("\n")) {
    const m = /^\s*(\d+)(?:;\S+)?\s*$/.exec(line);
    if (m) return m[1]!;
  }
  return null;
}
