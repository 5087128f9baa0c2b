/**
 * @module
 * Appending JSON Lines records to one file many times, cheaply: `appendJsonl`'s behaviour
 * (src/util/jsonl.ts: one write per record, O_APPEND, never through a symlink, a torn last line ended first) with
 * the file kept open between records. Issue 13: the monitor appends ~7 journal records per crash
 * cycle, and reopening the file for each (the directory checked, opened, stat'ed, its last byte
 * read, closed) cost eight system calls per record.
 *
 * Before each record one `lstat` of the path checks that it still names the open file and has the
 * size the last write left: then the file ends with that write's newline and the record is
 * appended at once. Otherwise (the file was rotated, removed or replaced; another process
 * appended; a write failed or was short) the file is opened afresh the way `appendJsonl`
 * opens it and its last byte looked at, so rotation, symlink refusal and the torn-line repair
 * behave as before. (Another process that truncated the file and wrote it back to exactly the
 * size we left goes unnoticed: nothing of autosentry does that.)
 */
import * as fs from "node:fs";
import { openAppendNoFollow } from "./safe-open.ts";

export class JsonlAppender {
  private fd: number | null = null;
  private ino = -1;
  private dev = -1;
  /** The file's size after our last write, when that write was whole (-1: unknown). */
  private size = -1;
  /** The last byte of the reopened file is not a newline: the next write ends that line first. */
  private needsNewline = false;

  constructor(readonly file: string) {}

  /** Append one record as a single write; fsynced first when `fsync`. Throws what the write throws. */
  append(record: unknown, fsync = false): void {
    const line = `${JSON.stringify(record)}\n`;
    const known = this.fd !== null && this.size >= 0 && this.stillOurs();
    if (!known) this.reopen();
    const fd = this.fd as number;
    const data = Buffer.from(this.needsNewline ? `\n${line}` : line, "utf8");
    this.needsNewline = false;
    const before = this.size;
    this.size = -1;
    const n = fs.writeSync(fd, data);
    if (fsync) fs.fsyncSync(fd);
    if (n === data.length) this.size = before + n;
  }

  /** Close the file (a later append opens it again). */
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.size = -1;
  }

  private stillOurs(): boolean {
    const st = fs.lstatSync(this.file, { throwIfNoEntry: false });
    return st?.isFile() === true && st.ino === this.ino && st.dev === this.dev && st.size === this.size;
  }

  /** Open the file as `appendJsonl` does and look at its end. */
  private reopen(): void {
    this.close();
    const fd = openAppendNoFollow(this.file, true);
    try {
      const st = fs.fstatSync(fd);
      let needsNewline = false;
      if (st.size > 0) {
        const last = Buffer.alloc(1);
        fs.readSync(fd, last, 0, 1, st.size - 1);
        needsNewline = last[0] !== 0x0a;
      }
      this.fd = fd;
      this.ino = st.ino;
      this.dev = st.dev;
      this.size = st.size;
      this.needsNewline = needsNewline;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }
}
