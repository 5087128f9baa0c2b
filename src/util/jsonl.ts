/**
 * @module
 * JSON Lines files: append one record per write, read back tolerating a torn last line.
 */
import * as fs from "node:fs";
import { openAppendNoFollow } from "./safe-open.ts";

/**
 * Append one JSON record as a single write (O_APPEND), creating the file and its directory; never
 * through a symlink (src/util/safe-open.ts).
 */
export function appendJsonl(file: string, record: unknown, fsync = false): void {
  const fd = openAppendNoFollow(file, true);
  try {
    // A torn last line (a writer killed mid-write, a full disk) must not swallow this record:
    // end it first, so the torn line stays one bad line and this one parses.
    const size = fs.fstatSync(fd).size;
    let prefix = "";
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = "\n";
    }
    fs.writeSync(fd, `${prefix}${JSON.stringify(record)}\n`);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export interface JsonlRead<T> {
  records: T[];
  /** 1-based line numbers that were not valid JSON objects (a torn last line is not listed). */
  badLines: number[];
}

/** Parse JSON Lines text; blank lines are skipped, an unterminated invalid last line is ignored. */
export function parseJsonl<T = Record<string, unknown>>(text: string): JsonlRead<T> {
  const records: T[] = [];
  const badLines: number[] = [];
  const lines = text.split("\n");
  const lastTerminated = text.endsWith("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const v = JSON.parse(line) as unknown;
      if (v !== null && typeof v === "object" && !Array.isArray(v)) records.push(v as T);
      else badLines.push(i + 1);
    } catch {
      const isTornTail = i === lines.length - 1 && !lastTerminated;
      if (!isTornTail) badLines.push(i + 1);
    }
  });
  return { records, badLines };
}

/** Read a JSON Lines file; a missing file reads as empty. */
export function readJsonl<T = Record<string, unknown>>(file: string): JsonlRead<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { records: [], badLines: [] };
    throw err;
  }
  return parseJsonl<T>(text);
}
