/**
 * @module
 * Reading what was appended to a JSON Lines file since the last look: complete lines only, with
 * their byte offsets, so an index can be fed by a file's growth without re-reading it. A file that
 * was replaced (another inode) or truncated is reported as a reset and read again from 0.
 */
import * as fs from "node:fs";

/** One complete line and where it sits in the file. */
export interface CursorLine {
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte length without the newline. */
  length: number;
}

export interface CursorRead {
  /** True when the file was replaced or truncated: the caller drops what it built and takes `lines` as all. */
  reset: boolean;
  lines: CursorLine[];
}

const CHUNK = 1 << 20;

/** Follows one file by byte offset; see the module comment. */
export class LineCursor {
  private ino = -1;
  private offset = 0;

  constructor(readonly file: string) {}

  /** Complete lines appended since the previous call (all of them on the first call). */
  read(): CursorRead {
    const lines: CursorLine[] = [];
    const reset = this.each((l) => lines.push(l));
    return { reset, lines };
  }

  /**
   * Call `onLine` for each complete line appended since the previous call, without collecting
   * them (a first read of a 100,000-line journal keeps nothing but what the caller keeps).
   * Returns true when the file was replaced or truncated (see {@link CursorRead.reset}).
   */
  each(onLine: (line: CursorLine) => void, onReset?: () => void): boolean {
    return this.eachRaw(
      (buf, start, end, offset) =>
        onLine({ text: buf.toString("utf8", start, end), offset, length: end - start }),
      onReset,
    );
  }

  /**
   * Like {@link each}, but hands over the bytes (`buf[start..end)`, valid only during the call)
   * instead of a string, so an indexer can pick fields without decoding every line. `onReset` is
   * called before the first line when the file was replaced or truncated (the lines that follow are
   * the whole file).
   */
  eachRaw(
    onLine: (buf: Buffer, start: number, end: number, offset: number) => void,
    onReset?: () => void,
  ): boolean {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      const reset = this.offset > 0;
      this.ino = -1;
      this.offset = 0;
      if (reset) onReset?.();
      return reset;
    }
    let reset = false;
    if (st.ino !== this.ino || st.size < this.offset) {
      reset = this.ino !== -1;
      this.ino = st.ino;
      this.offset = 0;
    }
    if (reset) onReset?.();
    if (st.size === this.offset) return reset;
    const fd = fs.openSync(this.file, "r");
    try {
      // One working buffer: the unfinished tail of the previous chunk is moved to its start and the
      // next chunk read right after it, so reading a long file allocates nothing per chunk.
      let work = Buffer.allocUnsafe(Math.min(CHUNK * 2, Math.max(64 * 1024, st.size - this.offset + 1)));
      let carry = 0;
      let carryStart = this.offset;
      let pos = this.offset;
      while (pos < st.size) {
        if (work.length - carry < CHUNK / 4) {
          const bigger = Buffer.allocUnsafe(work.length * 2);
          work.copy(bigger, 0, 0, carry);
          work = bigger;
        }
        const n = fs.readSync(fd, work, carry, Math.min(work.length - carry, st.size - pos), pos);
        if (n <= 0) break;
        const filled = carry + n;
        let start = 0;
        for (;;) {
          const nl = work.indexOf(10, start);
          if (nl === -1 || nl >= filled) break;
          if (nl > start) onLine(work, start, nl, carryStart + start);
          start = nl + 1;
        }
        work.copy(work, 0, start, filled);
        carry = filled - start;
        carryStart += start;
        pos += n;
      }
      this.offset = carryStart;
    } finally {
      fs.closeSync(fd);
    }
    return reset;
  }
}

/** Read `length` bytes at `offset` of `file` as text (a journal line picked from an index). */
export function readRange(fd: number, offset: number, length: number): string {
  const buf = Buffer.allocUnsafe(length);
  const n = fs.readSync(fd, buf, 0, length, offset);
  return buf.toString("utf8", 0, n);
}
