/**
 * @module
 * A child that dies within seconds of every launch cannot start (a missing script, a bad argument,
 * a broken environment): restarting it only burns the backoff. The monitor counts such launches in
 * a row (`state.startup_failures`) and, from the second one, says so in its foreground output and
 * log with the last line the child printed; `autosentry status` shows it too (issue 14 item 2: the
 * reason was visible only in an incident's log excerpt).
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

/** The child's last non-empty line in `file` (reads only its end), or null. */
export function lastLine(file: string, maxBytes = 8192): string | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, "r");
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const lines = buf
      .toString("utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !SHIM_BANNER.test(l));
    const last = lines.at(-1);
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

/** One sentence for the log, the foreground output and `status`. */
export function describeStartupFailures(f: StartupFailures): string {
  const code = f.last_code === null ? "" : ` (exit ${f.last_code})`;
  const said = f.last_output ? `; its last output: ${f.last_output}` : "";
  return `the child failed within ${STARTUP_SECONDS}s of starting on each of the last ${f.count} launches${code}: it probably cannot start (a missing file, a bad argument, a broken environment)${said}${f.process_log ? `; its output is in ${f.process_log}` : ""}`;
}
