/**
 * @module
 * Reading `docker inspect` output and `docker logs --timestamps` lines.
 *
 * Decisions (for docs/compat.md):
 * - A container is finished when `.State.Running` and `.State.Restarting` are false. Exit classes:
 *   `stopped` when the monitor stopped it; `oom` when `.State.OOMKilled`; `success` only for status
 *   `exited` (podman: also `stopped`, before its cleanup) with ExitCode 0, no OOM and no `.State.Error`; `signal` for ExitCode 129…192 (the
 *   container's main process died of signal N: `docker kill` gives 137), with the signal's name;
 *   `failure` otherwise, including a `dead` container or one that never started (`.State.Error`).
 *   A container that vanished before its state was read is `unknown`, never `success`.
 * - `docker logs --timestamps` marks where reading stopped: the last timestamp seen and how many
 *   lines of each stream carried it. A follower restarted with `--since <timestamp>` skips exactly
 *   those, so a re-adopted container's output is neither repeated nor lost, whatever the precision
 *   of the daemon's timestamps (podman's compat API prints whole seconds, Docker nanoseconds).
 */
import type { ExitClass } from "../../core/types.ts";
import { signalName } from "../../util/proc.ts";

/** The fields of `.State` that autosentry reads. */
export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused?: boolean;
  Restarting?: boolean;
  OOMKilled?: boolean;
  Dead?: boolean;
  ExitCode: number;
  Error?: string;
  StartedAt?: string;
  FinishedAt?: string;
}

/** Parse the output of `docker inspect -f '{{json .State}}'`; null when it is not that. */
export function parseState(text: string): ContainerState | null {
  const t = text.trim();
  if (!t.startsWith("{")) return null;
  try {
    const v = JSON.parse(t) as Partial<ContainerState>;
    if (typeof v.Status !== "string" || typeof v.Running !== "boolean") return null;
    return { ...v, ExitCode: typeof v.ExitCode === "number" ? v.ExitCode : -1 } as ContainerState;
  } catch {
    return null;
  }
}

/** True while the container runs (or docker is restarting it by its restart policy). */
export function isRunning(s: ContainerState): boolean {
  return s.Running || s.Restarting === true || s.Paused === true || s.Status === "stopping";
}

/** True when inspect's error output says the container does not exist (docker rc 1, podman rc 125). */
export function isNoSuchContainer(stderr: string): boolean {
  return /no such (object|container)/i.test(stderr);
}

/** How a finished container ended (see the module comment). */
export function classifyState(
  s: ContainerState,
  stopped: boolean,
): { exitClass: ExitClass; code: number | null; signal: string | null; detail: string } {
  const code = s.ExitCode >= 0 ? s.ExitCode : null;
  const error = s.Error?.trim() ?? "";
  const detail = `container ${s.Status}, ExitCode ${code ?? "?"}${s.OOMKilled ? ", OOMKilled" : ""}${error ? `, error: ${error}` : ""}`;
  const sig = code !== null && code > 128 && code <= 192 ? code - 128 : 0;
  const signal = sig > 0 ? signalName(sig) : null;
  let exitClass: ExitClass;
  if (stopped) exitClass = "stopped";
  else if (s.OOMKilled) exitClass = "oom";
  // podman reports `stopped` between the exit and its cleanup, then `exited`.
  else if ((s.Status === "exited" || s.Status === "stopped") && code === 0 && error === "" && !s.Dead)
    exitClass = "success";
  else if (sig > 0) exitClass = "signal";
  else exitClass = "failure";
  return { exitClass, code: exitClass === "failure" && code === 0 ? null : code, signal, detail };
}

/** A sortable key for an RFC 3339 timestamp (`…Z` or `…+hh:mm`, 0–9 fraction digits); null when not one. */
export function timestampKey(ts: string): string | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return null;
  const secs = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(secs)) return null;
  return `${String(secs / 1000).padStart(12, "0")}.${(m[2] ?? "").padEnd(9, "0")}`;
}

/** Where reading one stream of the container's log stopped. */
export interface StreamCursor {
  /** Timestamp (as docker printed it) of the last line read, or null before the first line. */
  ts: string | null;
  /** Lines read with exactly that timestamp. */
  n: number;
}

export type LogCursor = Record<"stdout" | "stderr", StreamCursor>;

/**
 * Tracks the cursor of each stream (stdout and stderr arrive on separate pipes, each in order) and
 * decides which timestamped lines to emit when following again from `--since` {@link since}, which
 * includes lines of that timestamp.
 */
export class LogPosition {
  readonly cursor: LogCursor;
  private readonly keys: Record<"stdout" | "stderr", string | null>;
  private readonly skip: Record<"stdout" | "stderr", number>;

  constructor(from: LogCursor | null) {
    this.cursor = from
      ? { stdout: { ...from.stdout }, stderr: { ...from.stderr } }
      : { stdout: { ts: null, n: 0 }, stderr: { ts: null, n: 0 } };
    this.keys = { stdout: null, stderr: null };
    this.skip = { stdout: 0, stderr: 0 };
    this.rearm();
  }

  /** The `--since` value for following again: the earlier of the two streams' timestamps. */
  since(): string | null {
    const a = this.cursor.stdout.ts;
    const b = this.cursor.stderr.ts;
    if (a === null) return b;
    if (b === null) return a;
    return (timestampKey(a) ?? "") <= (timestampKey(b) ?? "") ? a : b;
  }

  /**
   * A raw line of `docker logs --timestamps`: returns the text to emit, or null when the line was
   * read before. A line without a timestamp is emitted whole.
   */
  accept(raw: string, stream: "stdout" | "stderr"): string | null {
    const sp = raw.indexOf(" ");
    const ts = sp >= 0 ? raw.slice(0, sp) : raw;
    const key = timestampKey(ts);
    if (key === null) return raw;
    const text = sp >= 0 ? raw.slice(sp + 1) : "";
    const last = this.keys[stream];
    const c = this.cursor[stream];
    if (last !== null && key < last) return null;
    if (last !== null && key === last) {
      if (this.skip[stream] > 0) {
        this.skip[stream]--;
        return null;
      }
      c.n++;
      return text;
    }
    this.keys[stream] = key;
    this.skip[stream] = 0;
    c.ts = ts;
    c.n = 1;
    return text;
  }

  /** Skip what was read already when following again from {@link since}. */
  rearm(): void {
    for (const s of ["stdout", "stderr"] as const) {
      const c = this.cursor[s];
      this.keys[s] = c.ts !== null ? timestampKey(c.ts) : null;
      this.skip[s] = c.ts !== null ? c.n : 0;
    }
  }
}
