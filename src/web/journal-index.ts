/**
 * @module
 * The web viewer's and `autosentry events`' index of the journal (`logs/events.jsonl`): for each
 * line only its byte range, time, event kind and incident id are kept in memory (typed arrays), and
 * a page of events is read back from the file by range. 100,000 events cost a few megabytes, not the
 * hundred a parsed copy would.
 */
import { edenGC } from "bun:jsc";
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

const TIME_RE = /"time":"([^"\\]*)"/;
const EVENT_RE = /"event":"([^"\\]*)"/;
const INCIDENT_RE = /"incident_id":"([^"\\]*)"/;

/** Time, kind and incident id of a journal line; null when the line is not a JSON object. */
function pick(text: string): { time: string | null; event: string | null; incident: string | null } | null {
  const ev = EVENT_RE.exec(text);
  if (ev && text.startsWith("{")) {
    return {
      time: TIME_RE.exec(text)?.[1] ?? null,
      event: ev[1]!,
      incident: INCIDENT_RE.exec(text)?.[1] ?? null,
    };
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
    const r = v as Record<string, unknown>;
    const str = (x: unknown) => (typeof x === "string" ? x : null);
    return { time: str(r.time), event: str(r.event), incident: str(r.incident_id) };
  } catch {
    return null;
  }
}

const KEY_TIME = Buffer.from('"time":"');
const KEY_EVENT = Buffer.from('"event":"');
const KEY_INCIDENT = Buffer.from('"incident_id":"');

/** The string value after `key` in `buf[start..end)` (no escapes in it), or null. */
function rawValue(buf: Buffer, key: Buffer, start: number, end: number): string | null {
  const at = buf.indexOf(key, start);
  if (at === -1 || at >= end) return null;
  const from = at + key.length;
  const close = buf.indexOf(0x22, from);
  if (close === -1 || close >= end || buf[close - 1] === 0x5c) return null;
  return buf.toString("utf8", from, close);
}

/** {@link pick} on bytes: decodes only the three fields (the whole line only when they are not there). */
function pickRaw(
  buf: Buffer,
  start: number,
  end: number,
): { time: string | null; event: string | null; incident: string | null } | null {
  if (buf[start] === 0x7b) {
    const event = rawValue(buf, KEY_EVENT, start, end);
    if (event !== null) {
      return {
        time: rawValue(buf, KEY_TIME, start, end),
        event,
        incident: rawValue(buf, KEY_INCIDENT, start, end),
      };
    }
  }
  return pick(buf.toString("utf8", start, end));
}

/** `a` with room for `size` entries (the first `keep` copied). */
function resized<T extends Float64Array | Uint32Array | Int32Array>(a: T, size: number, keep: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a.subarray(0, keep));
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

  /**
   * Index what the journal gained; returns the new events (parsed), oldest first, when there are
   * at most 500 of them (a first read of a long journal returns none, to build no objects).
   * The time, kind and incident id are picked from the line's text (the journal writes them with
   * JSON.stringify, so `"event":"…"` is exact); a line they cannot be picked from is parsed.
   */
  refresh(): { reset: boolean; added: JournalEventRow[] } {
    const added: JournalEventRow[] = [];
    let count = 0;
    let fileSize = 0;
    try {
      fileSize = fs.statSync(this.file).size;
    } catch {
      // read below as missing
    }
    const reset = this.cursor.eachRaw(
      (buf, start, end, offset) => {
        if (this.n === this.offsets.length) {
          // Room for the lines the rest of the file will hold at the average length so far (and a
          // quarter more for what is appended later): a first read of a long journal sizes the
          // arrays once, instead of doubling them (old and new copies alive together, up to half
          // of the last one unused).
          const expected = Math.ceil(((this.n + 1) * Math.max(fileSize, offset + 1)) / (offset + 1));
          const size = Math.max(this.n + 1024, Math.ceil(this.n * 1.25), Math.ceil(expected * 1.05));
          this.offsets = resized(this.offsets, size, this.n);
          this.lengths = resized(this.lengths, size, this.n);
          this.times = resized(this.times, size, this.n);
          this.kindIds = resized(this.kindIds, size, this.n);
          this.incidentIds = resized(this.incidentIds, size, this.n);
        }
        const fields = pickRaw(buf, start, end);
        if (fields === null) return;
        const i = this.n++;
        this.offsets[i] = offset;
        this.lengths[i] = end - start;
        this.times[i] = fields.time === null ? Number.NaN : Date.parse(fields.time);
        this.kindIds[i] = this.intern(this.kinds, this.kindIndex, fields.event ?? "");
        this.incidentIds[i] =
          fields.incident === null ? -1 : this.intern(this.incidents, this.incidentIndex, fields.incident);
        // A first read of a long journal makes short-lived strings by the hundred thousand: collect
        // them as it goes (young ones only: cheap), so the resident size never holds them all.
        if (count > 0 && count % 5_000 === 0) edenGC();
        if (++count <= 500) {
          try {
            added.push({
              seq: i,
              ...(JSON.parse(buf.toString("utf8", start, end)) as Record<string, unknown>),
            });
          } catch {
            // indexed by its fields; a page that shows it skips what cannot be parsed
          }
        }
      },
      () => {
        // The file was replaced or truncated: what was indexed belongs to the old file, and the
        // lines that follow are the new file from its start.
        this.n = 0;
        this.kinds = [];
        this.kindIndex = new Map();
        this.incidents = [];
        this.incidentIndex = new Map();
      },
    );
    return { reset, added: count <= 500 ? added : [] };
  }

  get size(): number {
    return this.n;
  }

  /** Event kinds seen, sorted. */
  kindList(): string[] {
    return [...this.kinds].filter((k) => k).sort();
  }

  /** Calls `visit(seq)` for each event matching `q` (without the text search), newest first. */
  private scan(q: EventQuery, visit: (i: number) => void, after = -1): void {
    const kindSet = q.kinds?.length
      ? new Set(q.kinds.map((k) => this.kindIndex.get(k)).filter((k) => k !== undefined))
      : null;
    const inc = q.incident !== undefined ? (this.incidentIndex.get(q.incident) ?? -2) : null;
    for (let i = this.n - 1; i > after; i--) {
      if (kindSet && !kindSet.has(this.kindIds[i]!)) continue;
      if (inc !== null && this.incidentIds[i] !== inc) continue;
      const t = this.times[i]!;
      if (q.since != null && !(t >= q.since)) continue;
      if (q.until != null && !(t <= q.until)) continue;
      visit(i);
    }
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

  /**
   * One page of matching events, newest first. One pass that keeps only the page's sequence
   * numbers (no array of every match), then reads those lines back from the file.
   */
  query(q: EventQuery): EventPage {
    const perPage = Math.min(1000, Math.max(1, q.perPage ?? 100));
    const needle = q.q?.trim().toLowerCase() ?? "";
    let total = 0;
    let page = 1;
    let picked: number[] = [];
    if (needle) {
      // A text search reads the lines anyway: keep the matches, then cut the page.
      const hits: number[] = [];
      this.withFile((fd) =>
        this.scan(q, (i) => {
          if (readRange(fd, this.offsets[i]!, this.lengths[i]!).toLowerCase().includes(needle)) hits.push(i);
        }),
      );
      total = hits.length;
      page = Math.min(Math.max(1, q.page ?? 1), Math.max(1, Math.ceil(total / perPage)));
      picked = hits.slice((page - 1) * perPage, page * perPage);
    } else {
      this.scan(q, () => total++);
      page = Math.min(Math.max(1, q.page ?? 1), Math.max(1, Math.ceil(total / perPage)));
      const from = (page - 1) * perPage;
      let k = 0;
      this.scan(q, (i) => {
        if (k >= from && k < from + perPage) picked.push(i);
        k++;
      });
    }
    const items =
      this.withFile((fd) => picked.map((i) => this.parseAt(fd, i)).filter((x) => x !== null)) ?? [];
    return { total, page, per_page: perPage, pages: Math.max(1, Math.ceil(total / perPage)), items };
  }

  /** Events with `seq` greater than `after`, oldest first, matching `q` (for `--follow` and the stream). */
  since(after: number, q: EventQuery = {}): JournalEventRow[] {
    const seqs: number[] = [];
    this.scan(q, (i) => seqs.push(i), after);
    seqs.reverse();
    return this.withFile((fd) => seqs.map((i) => this.parseAt(fd, i)).filter((r) => r !== null)) ?? [];
  }

  /**
   * Counts of events of each of `kinds` in `bins` equal time bins from the first such event at or
   * after `sinceMs` to `untilMs` (the overview's timeline); null when there is none.
   */
  histogram(
    kinds: string[],
    sinceMs: number,
    untilMs: number,
    bins: number,
  ): { t0: number; binMs: number; counts: Uint32Array[] } | null {
    const ids = kinds.map((k) => this.kindIndex.get(k) ?? -1);
    let t0 = Number.NaN;
    for (let i = 0; i < this.n; i++) {
      if (!ids.includes(this.kindIds[i]!)) continue;
      const t = this.times[i]!;
      if (t >= sinceMs) {
        t0 = t;
        break;
      }
    }
    if (Number.isNaN(t0)) return null;
    const binMs = Math.max(1, untilMs - t0) / bins;
    const counts = kinds.map(() => new Uint32Array(bins));
    for (let i = 0; i < this.n; i++) {
      const lane = ids.indexOf(this.kindIds[i]!);
      if (lane === -1) continue;
      const t = this.times[i]!;
      if (!(t >= t0)) continue;
      counts[lane]![Math.min(bins - 1, Math.floor((t - t0) / binMs))]!++;
    }
    return { t0, binMs, counts };
  }
}
