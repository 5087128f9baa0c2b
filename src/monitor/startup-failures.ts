/**
 * @module
 * A child that dies within seconds of every launch cannot start (a missing script, a bad argument,
 * a broken environment): restarting it only burns the backoff. The monitor counts such launches in
 * a row (`state.startup_failures`) and, from the second one, says so in its foreground output and
 * log with the last line the child printed; `autosentry status` shows it too (issue 14 item 2: the
 * reason was visible only in an incident's log excerpt).
 *
 * In a crash loop with no delay that would be thousands of identical warnings a minute, so the
 * saying is separate from the counting ({@link StartupReporter}): state.json stays exact at every
 * launch (count, exit code, seconds, last output: `status` reads it), while the warning and its
 * journal record come when the streak begins (2nd failure), at growing counts (2, 5, 10, 20, 50,
 * 100, 200, 500, … — a 1-2-5 series, so a loop of N launches says it about 3·log10(N) times), when
 * the failure changes (an exit code or last line not yet said in this streak), and once more, as an
 * INFO line, when the child starts again (it lives past {@link STARTUP_SECONDS}). A count schedule
 * rather than a clock: the output is the same however fast the loop spins, and tests need no time.
 */
import * as fs from "node:fs";
import type { ChildExit } from "../core/types.ts";
import type { MonitorState } from "./state.ts";

/** A child that ends within this many seconds of its launch failed to start. */
export const STARTUP_SECONDS = 10;
/** Consecutive startup failures before the monitor says so. */
export const STARTUP_REPORT_AFTER = 2;

export interface StartupFailures {
  /** Launches in a row whose child failed within {@link STARTUP_SECONDS}. */
  count: number;
  last_code: number | null;
  last_seconds: number | null;
  /** The child's last line of output before the latest one ended. */
  last_output: string | null;
  /** Where the child's output is. */
  process_log: string | null;
}

export function noStartupFailures(): StartupFailures {
  return { count: 0, last_code: null, last_seconds: null, last_output: null, process_log: null };
}

/** The capture shim's own start/stop banners in process.log, which are not the child's words. */
const SHIM_BANNER = /^===== autosentry: .* =====$/;

/**
 * The child's last non-empty line in `file` (reads only its end), or null. Called at every failed
 * launch: the state `status` shows must be the latest launch's, and a changed line is said. It
 * scans back from the end and stops at the first line that counts, instead of splitting the tail.
 */
export function lastLine(file: string, maxBytes = 8192): string | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, "r");
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.allocUnsafe(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const text = buf.toString("utf8");
    let end = text.length;
    let last: string | undefined;
    while (end > 0) {
      const nl = text.lastIndexOf("\n", end - 1);
      const line = text.slice(nl + 1, end).trim();
      end = nl < 0 ? 0 : nl;
      if (line !== "" && !SHIM_BANNER.test(line)) {
        last = line;
        break;
      }
    }
    return last === undefined ? null : last.length > 300 ? `${last.slice(0, 299)}…` : last;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Count a failed exit; returns the streak when it is long enough to report. A child that lived
 * longer than {@link STARTUP_SECONDS} (or a state without a start time) ends the streak.
 */
export function noteFailedExit(
  st: MonitorState,
  exit: ChildExit,
  processLog: string,
  /** The project's redactor: the child's words go into state.json and the log. */
  redact: (text: string) => string = (t) => t,
): StartupFailures | null {
  const cur = st.startup_failures ?? noStartupFailures();
  const started = st.child_started_at ? Date.parse(st.child_started_at) : Number.NaN;
  const seconds = (exit.at - started) / 1000;
  if (!Number.isFinite(seconds) || seconds > STARTUP_SECONDS) {
    st.startup_failures = noStartupFailures();
    return null;
  }
  st.startup_failures = {
    count: cur.count + 1,
    last_code: exit.code,
    last_seconds: Math.max(0, Math.round(seconds * 10) / 10),
    last_output: ((line) => (line === null ? null : redact(line)))(lastLine(processLog)),
    process_log: processLog,
  };
  return st.startup_failures.count >= STARTUP_REPORT_AFTER ? st.startup_failures : null;
}

/**
 * The current child has lived past {@link STARTUP_SECONDS} (the caller knows it is alive): a streak
 * is over, so `status` stops saying "cannot start". Returns the count it ended, or 0.
 */
export function noteRunning(st: MonitorState, now: number): number {
  const count = st.startup_failures?.count ?? 0;
  const started = st.child_started_at ? Date.parse(st.child_started_at) : Number.NaN;
  if (count === 0 || !Number.isFinite(started) || (now - started) / 1000 <= STARTUP_SECONDS) return 0;
  st.startup_failures = noStartupFailures();
  return count;
}

/**
 * Whether a streak of `count` is said again without a change: the 2nd, then 5, 10, 20, 50, 100,
 * 200, 500, 1000, … (1, 2 or 5 times a power of ten).
 */
export function isReportCount(count: number): boolean {
  if (!Number.isInteger(count) || count < STARTUP_REPORT_AFTER) return false;
  let n = count;
  while (n % 10 === 0) n /= 10;
  return n === 1 || n === 2 || n === 5;
}

/** Distinct failures said per streak on change; after that, only the count schedule speaks. */
const MAX_SAID_KINDS = 8;

/** What makes two failures "the same": the exit code and the last line with its numbers blurred. */
function kindOf(f: StartupFailures): string {
  const out = (f.last_output ?? "").replace(/\d+/g, "#").replace(/\s+/g, " ");
  return `${f.last_code ?? "-"}\u0000${out}`;
}

/** Why a warning is said: the streak began, it is still going, or the failure changed. */
export type StartupSaid = "began" | "repeats" | "changed";

/** A warning to say (and journal) for the streak now, or a recovery line once it is over. */
export interface StartupReport {
  message: string;
  said: StartupSaid;
}

/**
 * Decides when the monitor says a streak (see the module comment): one per monitor, fed each
 * streak from {@link noteFailedExit}. It keeps only what was said in the current streak, in
 * memory: a new monitor (or a `reset`, which starts the count at 1 again) says it afresh.
 */
export class StartupReporter {
  private kinds = new Set<string>();
  private lastCount = 0;
  /** The count last said (0: nothing said in this streak). */
  private saidCount = 0;

  /** A failed launch counted `f` (count ≥ 1): the warning to say now, or null. */
  onFailure(f: StartupFailures): StartupReport | null {
    if (f.count <= this.lastCount) this.forget();
    this.lastCount = f.count;
    if (f.count < STARTUP_REPORT_AFTER) return null;
    const kind = kindOf(f);
    const isNew = !this.kinds.has(kind) && this.kinds.size < MAX_SAID_KINDS;
    const said: StartupSaid | null =
      this.saidCount === 0 ? "began" : isNew ? "changed" : isReportCount(f.count) ? "repeats" : null;
    if (said === null) return null;
    this.kinds.add(kind);
    this.saidCount = f.count;
    const text = describeStartupFailures(f);
    const message =
      said === "began"
        ? `${text} (said again at 5, 10, 20, 50, 100, … failures in a row, or when the exit code or last output changes)`
        : said === "changed"
          ? `the failure changed: ${text}`
          : `still failing to start (${f.count} times in a row): ${text}`;
    return { message, said };
  }

  /**
   * The streak of `count` ended (the child lived past {@link STARTUP_SECONDS}, or completed): the
   * line to say if a warning about it was said, else null.
   */
  onEnded(count: number): string | null {
    const said = this.saidCount > 0;
    this.forget();
    if (!said) return null;
    return `the child started: it ran past ${STARTUP_SECONDS}s after failing to start ${count} times in a row`;
  }

  private forget(): void {
    this.kinds.clear();
    this.lastCount = 0;
    this.saidCount = 0;
  }
}

/** One sentence for the log, the foreground output and `status`. */
export function describeStartupFailures(f: StartupFailures): string {
  const code = f.last_code === null ? "" : ` (exit ${f.last_code})`;
  const said = f.last_output ? `; its last output: ${f.last_output}` : "";
  return `the child failed within ${STARTUP_SECONDS}s of starting on each of the last ${f.count} launches${code}: it probably cannot start (a missing file, a bad argument, a broken environment)${said}${f.process_log ? `; its output is in ${f.process_log}` : ""}`;
}
