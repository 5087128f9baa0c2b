/**
 * @module
 * The web viewer's and `autosentry events`' index of the journal (`logs/events.jsonl`): for each
 * line only its byte range, time, event kind and incident id are kept in memory (typed arrays), and
 * a page of events is read back from the file by range. 100,000 events cost a few megabytes, not the
 * hundred a parsed copy would.
 */
import * as fs from "node:fs";
import { LineCursor, readRange } from "./line-cursor.ts";

/** Filters of `/events`, `/api/events` and `autosentry events`. */
export interface EventQuery {
  /** Event kinds (`incident`, `child_started`, …); empty or undefined = all. */
  kinds?: string[] | undefined;
  since?: number | null | undefined;
  until?: number | null | undefined;
  incident?: string | undefined;
  /** Case-insensitive text search in the raw line. */
  q?: string | undefined;
  page?: number | undefined;
  perPage?: number | undefined;
}

export interface JournalEventRow {
  /** Sequence number in the file (0-based), stable while the file is not replaced. */
  seq: number;
  [field: string]: unknown;
}

export interface EventPage {
  total: number;
  page: number;
  per_page: number;
  pages: number;
  /** Newest first. */
  items: JournalEventRow[];
}

function grow<T extends Float64Array | Uint32Array | Int32Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

export class JournalIndex {
  private readonly cursor: LineCursor;
  private n = 0;
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private times = new Float64Array(1024);
  private kindIds = new Int32Array(1024);
  private incidentIds = new Int32Array(1024);
  private kinds: string[] = [];
  private kindIndex = new Map<string, number>();
  private incidents: string[] = [];
  private incidentIndex = new Map<string, number>();

  constructor(readonly file: string) {
    this.cursor = new LineCursor(file);
  }

  private intern(list: string[], map: Map<string, number>, v: string): number {
    let i = map.get(v);
    if (i === undefined) {
      i = list.length;
      list.push(v);
      map.set(v, i);
    }
    return i;
  }

  /** Index what the journal gained; returns the new events (parsed), oldest first. */
  refresh(): { reset: boolean; added: JournalEventRow[] } {
    const { reset, lines } = this.cursor.read();
    if (reset) this.n = 0;
    const added: JournalEventRow[] = [];
    const need = this.n + lines.length;
    this.offsets = grow(this.offsets, need);
    this.lengths = grow(this.lengths, need);
    this.times = grow(this.times, need);
    this.kindIds = grow(this.kindIds, need);
    this.incidentIds = grow(this.incidentIds, need);
    const keep = lines.length <= 500; // a first read of a long journal does not build 100k objects to return
    for (const line of lines) {
      let rec: Record<string, unknown>;
      try {
        const v = JSON.parse(line.text) as unknown;
        if (v === null || typeof v !== "object" || Array.isArray(v)) continue;
        rec = v as Record<string, unknown>;
      } catch {
        continue;
      }
      const i = this.n++;
      this.offsets[i] = line.offset;
      this.lengths[i] = line.length;
      this.times[i] = typeof rec.time === "string" ? Date.parse(rec.time) : Number.NaN;
      this.kindIds[i] = this.intern(
        this.kinds,
        this.kindIndex,
        typeof rec.event === "string" ? rec.event : "",
      );
      this.incidentIds[i] =
        typeof rec.incident_id === "string"
          ? this.intern(this.incidents, this.incidentIndex, rec.incident_id)
          : -1;
      if (keep) added.push({ seq: i, ...rec });
    }
    return { reset, added };
  }

  get size(): number {
    return this.n;
  }

  /** Event kinds seen, sorted. */
  kindList(): string[] {
    return [...this.kinds].filter((k) => k).sort();
  }

  /** Sequence numbers matching `q` (without the text search), newest first. */
  private matching(q: EventQuery): number[] {
    const kindSet = q.kinds?.length
      ? new Set(q.kinds.map((k) => this.kindIndex.get(k)).filter((k) => k !== undefined))
      : null;
    const inc = q.incident !== undefined ? (this.incidentIndex.get(q.incident) ?? -2) : null;
    const out: number[] = [];
    for (let i = this.n - 1; i >= 0; i--) {
      if (kindSet && !kindSet.has(this.kindIds[i]!)) continue;
      if (inc !== null && this.incidentIds[i] !== inc) continue;
      const t = this.times[i]!;
      if (q.since != null && !(t >= q.since)) continue;
      if (q.until != null && !(t <= q.until)) continue;
      out.push(i);
    }
    return out;
  }

  private withFile<T>(f: (fd: number) => T): T | null {
    let fd: number;
    try {
      fd = fs.openSync(this.file, "r");
    } catch {
      return null;
    }
    try {
      return f(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  private parseAt(fd: number, i: number): JournalEventRow | null {
    try {
      const v = JSON.parse(readRange(fd, this.offsets[i]!, this.lengths[i]!)) as Record<string, unknown>;
      return { seq: i, ...v };
    } catch {
      return null;
    }
  }

  /** One page of matching events, newest first. */
  query(q: EventQuery): EventPage {
    const perPage = Math.min(1000, Math.max(1, q.perPage ?? 100));
    let seqs = this.matching(q);
    const needle = q.q?.trim().toLowerCase() ?? "";
    if (needle) {
      seqs =
        this.withFile((fd) =>
          seqs.filter((i) =>
            readRange(fd, this.offsets[i]!, this.lengths[i]!).toLowerCase().includes(needle),
          ),
        ) ?? [];
    }
    const pages = Math.max(1, Math.ceil(seqs.length / perPage));
    const page = Math.min(pages, Math.max(1, q.page ?? 1));
    const slice = seqs.slice((page - 1) * perPage, page * perPage);
    const items =
      this.withFile((fd) => slice.map((i) => this.parseAt(fd, i)).filter((r) => r !== null)) ?? [];
    return { total: seqs.length, page, per_page: perPage, pages, items };
  }

  /** Events with `seq` greater than `after`, oldest first, matching `q` (for `--follow` and the stream). */
  since(after: number, q: EventQuery = {}): JournalEventRow[] {
    const seqs = this.matching(q)
      .filter((i) => i > after)
      .reverse();
    return this.withFile((fd) => seqs.map((i) => this.parseAt(fd, i)).filter((r) => r !== null)) ?? [];
  }

  /** Times of every event of `kind`, oldest first (for the overview's timeline). */
  timesOf(kinds: string[], sinceMs: number | null = null): Array<{ time: number; kind: string }> {
    const ids = new Set(kinds.map((k) => this.kindIndex.get(k)).filter((k) => k !== undefined));
    const out: Array<{ time: number; kind: string }> = [];
    for (let i = 0; i < this.n; i++) {
      const k = this.kindIds[i]!;
      if (!ids.has(k)) continue;
      const t = this.times[i]!;
      if (sinceMs !== null && !(t >= sinceMs)) continue;
      out.push({ time: t, kind: this.kinds[k]! });
    }
    return out;
  }
}
