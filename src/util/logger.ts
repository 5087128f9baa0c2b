/**
 * @module
 * The monitor's own log (`<log_dir>/autosentry.log`), in the Python tool's line format:
 * `[YYYY-MM-DD HH:MM:SS UTC] [LEVEL] message`. Lines also go to stdout unless quiet.
 * The file is rotated by size (10 MB × 3) so it never fills a disk.
 */
import * as fs from "node:fs";
import type { WriteGate } from "./disk-full.ts";
import { openAppendNoFollow } from "./safe-open.ts";

export type LogLevel = "INFO" | "WARN" | "ANOMALY" | "RECOVERY" | "ACTION" | "CLAUDE" | "SLACK" | "ERROR";

export interface Logger {
  log(level: LogLevel, message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** How the gate names this logger's file. */
const FILE_WHAT = "autosentry.log";

/** `2026-11-22 03:04:05 UTC` */
export function utcStamp(ms: number = Date.now()): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export interface FileLoggerOptions {
  /** Also write to stdout (default true). */
  echo?: boolean;
  maxBytes?: number;
  backups?: number;
  /** Applied to every message (a redactor): the monitor's log keeps no secrets. */
  redact?: (text: string) => string;
  /** Where a full disk is said once (src/util/disk-full.ts); without it, this logger says its own failures. */
  gate?: WriteGate;
}

/** A logger writing to a file (and stdout). Write errors are swallowed: logging never kills the monitor. */
export class FileLogger implements Logger {
  private fd: number | null = null;
  private size = 0;
  private failure: string | null = null;
  /** The current failure is a full disk, said by the gate (which also says when space returns). */
  private failureGated = false;
  private gate: WriteGate | undefined;
  private readonly echo: boolean;
  private readonly maxBytes: number;
  private readonly backups: number;
  private readonly redact: ((text: string) => string) | undefined;

  constructor(
    readonly file: string | null,
    opts: FileLoggerOptions = {},
  ) {
    this.echo = opts.echo ?? true;
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.backups = opts.backups ?? 3;
    this.redact = opts.redact;
    this.gate = opts.gate;
  }

  /** Set the write gate after construction (it reports through this logger). */
  setGate(gate: WriteGate): void {
    this.gate = gate;
  }

  log(level: LogLevel, message: string): void {
    let text = message;
    if (this.redact) {
      try {
        text = this.redact(message);
      } catch {
        // never let redaction stop logging; the raw text stays out
        text = "[message not shown: redaction failed]";
      }
    }
    const line = `[${utcStamp()}] [${level}] ${text}\n`;
    if (this.echo) {
      try {
        fs.writeSync(1, line);
      } catch {
        // stdout closed (EPIPE): keep logging to the file.
      }
    }
    if (this.file === null) return;
    try {
      if (this.fd === null) this.open();
      // After a failed write (a full disk) the file may end in half a line: resume on a boundary.
      const data = Buffer.from(this.failure !== null && !this.endsWithNewline() ? `\n${line}` : line);
      const n = fs.writeSync(this.fd!, data);
      this.size += n;
      if (n < data.length) {
        const err = new Error("short write") as NodeJS.ErrnoException;
        err.code = "ENOSPC";
        throw err;
      }
      if (this.failure !== null) {
        const was = this.failure;
        const gated = this.failureGated;
        this.failure = null;
        this.failureGated = false;
        if (gated) this.gate?.ok(FILE_WHAT);
        else
          this.log(
            "WARN",
            `${this.file}: writing again (lines logged meanwhile went to the terminal only; the failure was: ${was})`,
          );
      }
      if (this.size > this.maxBytes) this.rotate();
    } catch (err) {
      this.closeFd();
      if (this.failure !== null) {
        if (this.failureGated) this.gate?.failed(FILE_WHAT, err);
      } else {
        // Said once, on stderr (the terminal), not once per line: a full disk stays quiet after this.
        const e = err as NodeJS.ErrnoException;
        this.failure = e.code ?? e.message;
        // A full disk is the gate's to say (once for every writer, with a notification).
        this.failureGated = this.gate?.failed(FILE_WHAT, err) ?? false;
        if (!this.failureGated)
          try {
            fs.writeSync(
              2,
              `[${utcStamp()}] [ERROR] Cannot write ${this.file}: ${e.message}; logging to the terminal until it can\n`,
            );
          } catch {}
      }
    }
  }

  /** The error of the last failed write to the file, or null when writing works. */
  get writeFailure(): string | null {
    return this.failure;
  }

  private endsWithNewline(): boolean {
    try {
      const size = fs.fstatSync(this.fd!).size;
      if (size === 0) return true;
      const last = Buffer.alloc(1);
      fs.readSync(this.fd!, last, 0, 1, size - 1);
      return last[0] === 0x0a;
    } catch {
      return false;
    }
  }

  info(message: string): void {
    this.log("INFO", message);
  }
  warn(message: string): void {
    this.log("WARN", message);
  }
  error(message: string): void {
    this.log("ERROR", message);
  }

  close(): void {
    this.closeFd();
  }

  private open(): void {
    const file = this.file!;
    this.fd = openAppendNoFollow(file, true);
    this.size = fs.fstatSync(this.fd).size;
  }

  private closeFd(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {}
      this.fd = null;
    }
  }

  private rotate(): void {
    const file = this.file!;
    this.closeFd();
    for (let i = this.backups - 1; i >= 1; i--) {
      try {
        fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      } catch {}
    }
    if (this.backups > 0) {
      try {
        fs.renameSync(file, `${file}.1`);
      } catch {}
    } else {
      fs.truncateSync(file, 0);
    }
  }
}

/** A logger that keeps lines in memory (tests, `scan`). */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  log(level: LogLevel, message: string): void {
    this.lines.push(`[${level}] ${message}`);
  }
  info(message: string): void {
    this.log("INFO", message);
  }
  warn(message: string): void {
    this.log("WARN", message);
  }
  error(message: string): void {
    this.log("ERROR", message);
  }
}
