/**
 * @module
 * Reading an outbox that another process appends to: complete lines after a byte offset, each with
 * its own offset (the message's key). Never writes the file. A line still being written (no
 * newline yet) is left for the next read.
 */
import * as fs from "node:fs";
import type { OutboxLine } from "../notify/outbox.ts";

export interface OutboxEntry {
  off: number;
  line: OutboxLine;
}

export interface OutboxRead {
  entries: OutboxEntry[];
  /** Offset after the last complete line read. */
  next: number;
  /** Offsets of lines that were not JSON objects (skipped, and counted as done). */
  bad: number[];
  /** The file is shorter than `from`: it was truncated or replaced. */
  shrank: boolean;
  /** The file's size when read. */
  size: number;
}

/** Complete lines of `file` from byte `from` (at most `maxBytes` at a time). */
export function readOutbox(file: string, from: number, maxBytes = 8 * 1024 * 1024): OutboxRead {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { entries: [], next: from, bad: [], shrank: false, size: 0 };
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size < from) return { entries: [], next: from, bad: [], shrank: true, size };
    const len = Math.min(size - from, maxBytes);
    if (len === 0) return { entries: [], next: from, bad: [], shrank: false, size };
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, from);
    const entries: OutboxEntry[] = [];
    const bad: number[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) break;
      const off = from + start;
      const text = buf.subarray(start, nl).toString("utf8");
      start = nl + 1;
      if (!text.trim()) continue;
      try {
        const v = JSON.parse(text) as unknown;
        if (v && typeof v === "object" && !Array.isArray(v)) entries.push({ off, line: v as OutboxLine });
        else bad.push(off);
      } catch {
        bad.push(off);
      }
    }
    return { entries, next: from + start, bad, shrank: false, size };
  } finally {
    fs.closeSync(fd);
  }
}
