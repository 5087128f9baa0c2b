/**
 * @module
 * A full disk is said once (issue 16, finding 9): the first write that fails for lack of space
 * (ENOSPC, or EDQUOT: a quota) starts an episode, which is logged and notified once; every later
 * failed write of the episode, by any writer (autosentry.log, state.json, the journal, incident
 * folders, the vault, the capture process), is only counted. The episode ends when a writer that
 * failed during it writes again (the space it needed is back): that is logged with the counts, and
 * the next failure for lack of space is a new episode, said once again.
 *
 * Other write errors (EACCES, EROFS, EIO …) are not this gate's: their writers log them as before.
 * The end of an episode is logged, not notified: a disk that hovers at full would otherwise send
 * two messages per flap, and the notification of the start already tells someone to make room.
 */

import type { Logger, LogLevel } from "./logger.ts";

/** What a writer tells the gate. */
export interface WriteGate {
  /**
   * A write of `what` failed. Returns true when the failure was for lack of space and is the
   * gate's to report (the writer must not log it); false for any other error.
   */
  failed(what: string, err: unknown): boolean;
  /** A write of `what` succeeded. */
  ok(what: string): void;
}

export interface DiskFullGateOptions {
  /** Said when an episode starts (an ERROR line). */
  onFull(message: string): void;
  /** Notified when an episode starts. */
  notify(title: string, body: string): void;
  /** Said when an episode ends. */
  onSpaceBack(message: string): void;
}

const SPACE_CODES = new Set(["ENOSPC", "EDQUOT"]);

/** Whether `err` (an error or a message) says a write failed for lack of space. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string" && SPACE_CODES.has(code)) return true;
  const text = err instanceof Error ? err.message : typeof err === "string" ? err : "";
  return /\bENOSPC\b|\bEDQUOT\b|no space left on device|disk quota exceeded/i.test(text);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class DiskFullGate implements WriteGate {
  /** Failed writes per writer in the current episode; null when no episode is under way. */
  private episode: Map<string, number> | null = null;
  private reporting = false;
  /** Episodes so far (tests and the chaos suite read it). */
  episodes = 0;

  constructor(private readonly opts: DiskFullGateOptions) {}

  /** True while an episode is under way. */
  get full(): boolean {
    return this.episode !== null;
  }

  failed(what: string, err: unknown): boolean {
    if (!isNoSpace(err)) return false;
    if (this.episode !== null) {
      this.episode.set(what, (this.episode.get(what) ?? 0) + 1);
      return true;
    }
    this.episode = new Map([[what, 1]]);
    this.episodes++;
    // Reporting writes too (the log line): a failure it causes is counted above, not reported again.
    this.reporting = true;
    try {
      const why = describe(err);
      this.opts.onFull(
        `Disk full: cannot write ${what}: ${why}. Later writes that fail for lack of space are counted, not logged, until space returns`,
      );
      this.opts.notify(
        "autosentry: disk full",
        `Cannot write ${what}: ${why}. Supervision goes on; what cannot be written (logs, state, incidents) is lost until space returns.`,
      );
    } catch {
      // Reporting must never break the writer that called.
    } finally {
      this.reporting = false;
    }
    return true;
  }

  ok(what: string): void {
    const ep = this.episode;
    if (ep === null || this.reporting || !ep.has(what)) return;
    this.episode = null;
    const counts = [...ep].map(([w, n]) => `${w} ${n}`).join(", ");
    const total = [...ep.values()].reduce((a, b) => a + b, 0);
    try {
      this.opts.onSpaceBack(
        `Space returned: ${what} written again; ${total} write(s) failed while the disk was full (${counts})`,
      );
    } catch {}
  }
}

/**
 * `logger` for a part that logs its own write failures (the vault, the capture process's
 * warnings): a warning or error that says a write failed for lack of space goes to `gate` as a
 * failure of `what` instead of into the log; everything else passes through.
 */
export function gatedLogger(logger: Logger, gate: WriteGate, what: string): Logger {
  const log = (level: LogLevel, message: string): void => {
    if ((level === "WARN" || level === "ERROR") && isNoSpace(message) && gate.failed(what, message)) return;
    logger.log(level, message);
  };
  return {
    log,
    info: (message) => log("INFO", message),
    warn: (message) => log("WARN", message),
    error: (message) => log("ERROR", message),
  };
}
