/**
 * @module
 * What the store needs from index.jsonl when it writes an incident (the earlier incidents with the
 * same fingerprint), kept in memory and brought up to date by reading only the bytes appended since
 * the last look. Writing an incident therefore costs the same with 10 or 10,000 incidents before
 * it (issue 13); the first incident of a monitor reads the index once.
 *
 * It sees what `readIndex` sees: one entry per id at its first position, with the values of its
 * last line (outcome lines update an incident in place). Lines from other writers are picked up the
 * same way; an index that shrank (rewritten by hand) is read again from the start.
 */
import * as fs from "node:fs";
import { normalizeIndexEntry } from "./read.ts";
import type { IndexEntry } from "./types.ts";

export class IndexCache {
  private offset = 0;
  private ino = 0;
  /** Ids per fingerprint in first-seen order. */
  private readonly byFp = new Map<string, string[]>();
  private readonly byId = new Map<string, IndexEntry>();

  constructor(private readonly file: string) {}

  /** Entries with fingerprint `fp`, oldest first (throws when the index cannot be read). */
  same(fp: string): { count: number; first: IndexEntry | null; newest(n: number): IndexEntry[] } {
    this.refresh();
    const ids = this.byFp.get(fp) ?? [];
    const entry = (id: string): IndexEntry => this.byId.get(id)!;
    return {
      count: ids.length,
      first: ids.length > 0 ? entry(ids[0]!) : null,
      newest: (n: number) => (n <= 0 ? [] : ids.slice(-n).map(entry)),
    };
  }

  private refresh(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        this.reset(0);
        return;
      }
      throw err;
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.ino !== this.ino || st.size < this.offset) this.reset(st.ino);
      if (st.size === this.offset) return;
      const buf = Buffer.allocUnsafe(st.size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = fs.readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      // Only complete lines: a line being appended right now is read next time.
      const end = buf.lastIndexOf(10, got - 1);
      if (end < 0) return;
      for (const line of buf.toString("utf8", 0, end).split("\n")) this.add(line);
      this.offset += end + 1;
    } finally {
      fs.closeSync(fd);
    }
  }

  private reset(ino: number): void {
    this.ino = ino;
    this.offset = 0;
    this.byFp.clear();
    this.byId.clear();
  }

  private add(line: string): void {
    if (line.trim() === "") return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return; // a torn or foreign line: readIndex skips it too
    }
    if (rec === null || typeof rec !== "object" || Array.isArray(rec)) return;
    const e = normalizeIndexEntry(rec as Record<string, unknown>);
    if (e === null) return;
    const before = this.byId.get(e.id);
    this.byId.set(e.id, e);
    const fp = e.fingerprint ?? "";
    if (before === undefined) {
      const ids = this.byFp.get(fp);
      if (ids) ids.push(e.id);
      else this.byFp.set(fp, [e.id]);
    } else if ((before.fingerprint ?? "") !== fp) {
      // Rare: an update changed the fingerprint. Move the id, keeping first-seen order by id list.
      const old = this.byFp.get(before.fingerprint ?? "") ?? [];
      const i = old.indexOf(e.id);
      if (i >= 0) old.splice(i, 1);
      const ids = this.byFp.get(fp) ?? [];
      ids.push(e.id);
      this.byFp.set(fp, ids);
    }
  }
}
