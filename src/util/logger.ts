/**
 * @module
 * The monitor's own log (`<log_dir>/autosentry.log`), in the Python tool's line format:
 * `[YYYY-MM-DD HH:MM:SS UTC] [LEVEL] message`. Lines also go to stdout unless quiet.
 * The file is rotated by size (10 MB × 3) so it never fills a disk.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export type LogLevel = "INFO" | "WARN" | "ANOMALY" | "RECOVERY" | "ACTION" | "CLAUDE" | "SLACK" | "ERROR";

export interface Logger {
  log(level: LogLevel, message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

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
}

/** A logger writing to a file (and stdout). Write errors are swallowed: logging never kills the monitor. */
export class FileLogger implements Logger {
  private fd: number | null = null;
  private size = 0;
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
      fs.writeSync(this.fd!, line);
      this.size += Buffer.byteLength(line);
      if (this.size > this.maxBytes) this.rotate();
    } catch {
      this.closeFd();
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
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, "a");
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
