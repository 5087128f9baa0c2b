/**
 * @module
 * Reading an outbox that another process appends to: complete lines after a byte offset, each with
 * its own offset (the message's key). Never writes the file. A line still being written (no
 * newline yet) is left for the next read.
 */
import * as fs from "node:fs";
import * as path from "node:path";
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

/**
 * One outbox file: its identity (`<inode>:<birth time>`: file systems reuse the inode of a removed
 * file at once; null until first seen) and the position of its byte 0.
 */
export interface Segment {
  base: number;
  file: string | null;
}

export interface StreamRead {
  /** Lines read, `off` being their position (segment base + byte offset). */
  entries: OutboxEntry[];
  /** The position after the last complete line read. */
  next: number;
  /** Positions of lines that were not JSON objects. */
  bad: number[];
  /** The file being read now (changed when the reader moved to a newer one). */
  seg: Segment;
  /** Every segment moved to, in order (the last is `seg`): the ledger remembers them. */
  entered: Segment[];
  /** Said when lines were lost: a rotated file was gone before it was read to its end, or the file shrank. */
  lost: string | null;
}

/** The identity of the file at `file` (see {@link Segment}), or null when there is none. */
export function fileIdentity(file: string): string | null {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.birthtimeMs}`;
  } catch {
    return null;
  }
}

/** `<file>.1`, `<file>.2`, … that exist, newest (lowest number) first. */
export function rotatedOutboxes(file: string): string[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {}
  return names
    .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : Number.NaN))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b)
    .map((n) => `${file}.${n}`);
}

/**
 * Complete lines from position `from` of the outbox at `file` and, when its writer rotated it
 * (notify/outbox.ts), of the rotated files: the file being read (`seg.file`) is found again by identity
 * among `<file>.1 … .N`, read to its end (nothing writes it after the rename), and the next newer
 * file follows at base + its size. Positions therefore never repeat. A file rotated away before it
 * was read to its end, or one that shrank (truncated in place), is said in `lost` and reading goes
 * on with the oldest file still there, at positions after every one used before.
 */
export function readOutboxStream(file: string, seg: Segment, from: number, maxBytes?: number): StreamRead {
  let s: Segment = { ...seg };
  let pos = Math.max(from, s.base);
  const entries: OutboxEntry[] = [];
  const bad: number[] = [];
  let lost: string | null = null;
  const entered: Segment[] = [];
  const enter = (n: Segment) => {
    s = n;
    entered.push(n);
  };
  const take = (r: OutboxRead, base: number) => {
    for (const e of r.entries) entries.push({ off: e.off + base, line: e.line });
    for (const b of r.bad) bad.push(b + base);
  };
  for (let hop = 0; hop < 64; hop++) {
    const ino = fileIdentity(file);
    if (s.file === null) {
      // Never seen (a new ledger, or one written before outboxes rotated): the oldest file still
      // there is where its positions began (it is the outbox itself until the first rotation).
      const first = fileIdentity(rotatedOutboxes(file).at(-1) ?? file);
      if (first === null) break;
      enter({ base: s.base, file: first });
      continue;
    }
    if (ino === s.file) {
      const r = readOutbox(file, pos - s.base, maxBytes);
      if (r.shrank) {
        lost = `${file} is shorter than what was already delivered (truncated or replaced?): new lines are read from where it now ends`;
        // positions go on after every one used before
        enter({ base: pos - r.size, file: ino });
        break;
      }
      take(r, s.base);
      pos = s.base + r.next;
      break;
    }
    const rotated = rotatedOutboxes(file);
    const k = rotated.findIndex((f) => fileIdentity(f) === s.file);
    if (k === -1) {
      lost = `${file}: the file being read was rotated away (or removed) before it was read to its end; lines after position ${pos} in it are lost`;
      const oldest = rotated.at(-1) ?? file;
      const oldestIno = fileIdentity(oldest);
      if (oldestIno === null) break;
      enter({ base: pos, file: oldestIno });
      continue;
    }
    const old = rotated[k]!;
    const r = readOutbox(old, pos - s.base, maxBytes);
    take(r, s.base);
    pos = s.base + r.next;
    const complete = r.entries.length === 0 && r.bad.length === 0;
    if (!complete && r.next < r.size) break; // more than maxBytes: the next call goes on
    // Read to its end (a torn last line without a newline is never completed: skipped).
    const newer = k === 0 ? file : rotated[k - 1]!;
    const newerIno = fileIdentity(newer);
    // A rotation between the two looks shifts the names: look again.
    if (fileIdentity(old) !== s.file) continue;
    if (newerIno === null) break;
    enter({ base: s.base + r.size, file: newerIno });
    pos = s.base;
  }
  return { entries, next: pos, bad, seg: s, entered, lost };
}

/** The line at position `off` (a given-up message to send again), looked up in `segs`; null when gone. */
export function lineAt(file: string, segs: Segment[], off: number): OutboxLine | null {
  let seg: Segment | null = null;
  for (const sg of segs) if (sg.base <= off && (seg === null || sg.base >= seg.base)) seg = sg;
  if (seg === null) return null;
  const all = [file, ...rotatedOutboxes(file)];
  // a segment never identified is the oldest file (see readOutboxStream)
  const f = seg.file === null ? all.at(-1) : all.find((x) => fileIdentity(x) === seg.file);
  if (f === undefined) return null;
  const r = readOutbox(f, off - seg.base, 1024 * 1024);
  const e = r.entries[0];
  return e !== undefined && e.off === off - seg.base ? e.line : null;
}
