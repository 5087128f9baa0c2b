/**
 * @module
 * What the store and the vault need from index.jsonl when they write an incident (the earlier
 * incidents with the same fingerprint), kept in memory and brought up to date by reading only the
 * bytes appended since the last look. Writing an incident therefore costs the same with 10 or
 * 10,000 incidents before it (issue 13); the first incident of a monitor reads the index once.
 *
 * It keeps what they read and no more, so its memory does not grow with the history (issue 16: a
 * crash loop added one whole index entry per incident, ~10 strings, to the monitor's live heap):
 * per fingerprint the number of incidents, the first one and the newest {@link KEEP_NEWEST}, each
 * with only the fields the readers use ({@link SameEntry}). The store links the first and the
 * newest 10 (seen_before), the vault the newest 10 and lists at most 50 in a pattern note.
 *
 * It sees what `readIndex` sees: one entry per id at its first position, with the values of its
 * last line (outcome lines update an incident in place). An update is recognised by its id among
 * the last {@link RECENT_IDS} ids read (the outcome line of an incident follows its creation line
 * with no other incident in between: decisions are serial); an update of an older id would be
 * counted as one more incident of its fingerprint. Lines from other writers are picked up the same
 * way; an index that shrank (rewritten by hand) is read again from the start.
 *
 * What does grow is one small record per distinct fingerprint (a distinct failure), not per
 * incident.
 */
import * as fs from "node:fs";
import { normalizeIndexEntry } from "./read.ts";
import type { IndexEntry } from "./types.ts";

/** The fields of an index entry the readers use. */
export type SameEntry = Pick<
  IndexEntry,
  "id" | "time" | "detector" | "message" | "exception_type" | "rule" | "action" | "source"
>;

/** How many of the newest entries per fingerprint are kept (the vault lists up to 50). */
export const KEEP_NEWEST = 64;
/** How many of the last ids read are remembered to recognise an update line. */
export const RECENT_IDS = 1024;

/** The incidents of one fingerprint, as far as they are kept. */
interface Group {
  count: number;
  first: SameEntry;
  /** The newest, oldest first (at most KEEP_NEWEST; the first is among them while it is new). */
  newest: SameEntry[];
}

/** Where a recently read id is kept: its fingerprint ("" for none). */
type Recent = string;

function slim(e: IndexEntry): SameEntry {
  return {
    id: e.id,
    time: e.time,
    detector: e.detector,
    message: e.message,
    exception_type: e.exception_type,
    rule: e.rule,
    action: e.action,
    source: e.source,
  };
}

export class IndexCache {
  private offset = 0;
  private ino = 0;
  private readonly groups = new Map<string, Group>();
  /** The last RECENT_IDS ids read, oldest first (a Map keeps insertion order). */
  private readonly recent = new Map<string, Recent>();

  constructor(private readonly file: string) {}

  /**
   * Entries with fingerprint `fp`, oldest first: how many, the first, and the newest `n` (at most
   * {@link KEEP_NEWEST}). Throws when the index cannot be read.
   */
  same(fp: string): { count: number; first: SameEntry | null; newest(n: number): SameEntry[] } {
    this.refresh();
    const g = this.groups.get(fp);
    return {
      count: g?.count ?? 0,
      first: g?.first ?? null,
      newest: (n: number) => (n <= 0 || !g ? [] : g.newest.slice(-n)),
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
    this.groups.clear();
    this.recent.clear();
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
    const full = normalizeIndexEntry(rec as Record<string, unknown>);
    if (full === null) return;
    const e = slim(full);
    const fp = full.fingerprint ?? "";
    const before = this.recent.get(e.id);
    if (before !== undefined) {
      // An update (an outcome line): the values change in place, the position stays.
      this.recent.delete(e.id);
      this.recent.set(e.id, fp);
      if (before === fp) {
        this.replace(fp, e);
        return;
      }
      // Rare: an update changed the fingerprint. The incident moves to the new group's end.
      this.remove(before, e.id);
    } else {
      this.recent.set(e.id, fp);
      if (this.recent.size > RECENT_IDS) this.recent.delete(this.recent.keys().next().value!);
    }
    const g = this.groups.get(fp);
    if (!g) {
      this.groups.set(fp, { count: 1, first: e, newest: [e] });
      return;
    }
    g.count++;
    g.newest.push(e);
    if (g.newest.length > KEEP_NEWEST) g.newest.shift();
  }

  /** Put the new values of incident `e.id` where its old ones are kept in group `fp`. */
  private replace(fp: string, e: SameEntry): void {
    const g = this.groups.get(fp);
    if (!g) return;
    if (g.first.id === e.id) g.first = e;
    const i = g.newest.findLastIndex((x) => x.id === e.id);
    if (i >= 0) g.newest[i] = e;
  }

  /** Take incident `id` out of group `fp` (its fingerprint changed). */
  private remove(fp: string, id: string): void {
    const g = this.groups.get(fp);
    if (!g) return;
    g.count--;
    const i = g.newest.findLastIndex((x) => x.id === id);
    if (i >= 0) g.newest.splice(i, 1);
    if (g.count <= 0) {
      this.groups.delete(fp);
      return;
    }
    // The first moved away: the oldest still kept stands in for it (exact while the group is small).
    if (g.first.id === id && g.newest[0]) g.first = g.newest[0];
  }
}
