/**
 * @module
 * The web viewer's in-memory incident index: fed by `index.jsonl` and its growth (a
 * {@link LineCursor}), never by listing incident folders, so a list request costs a filter over
 * memory however many incidents there are (the Python viewer read every folder per request,
 * inventory §6). Lines for an id merge as `readIndex` merges them: the last line wins, the
 * incident keeps the position of its first line.
 */
import { groupEntries, groupKey, type IncidentGroup } from "../incidents/groups.ts";
import { normalizeIndexEntry } from "../incidents/read.ts";
import type { IndexEntry } from "../incidents/types.ts";
import { type CursorLine, LineCursor } from "./line-cursor.ts";

/** Filters of `/incidents` and `/api/incidents` (all optional; combined with AND). */
export interface IncidentQuery {
  detector?: string | undefined;
  kind?: string | undefined;
  /** A fingerprint (or the group key of an index line written before fingerprints). */
  group?: string | undefined;
  /** Epoch ms bounds on the incident's time (inclusive). */
  since?: number | null | undefined;
  until?: number | null | undefined;
  /** Case-insensitive text search over id, message, detector, kind, exception type, rule, action. */
  q?: string | undefined;
  /** 1-based page, newest first. */
  page?: number | undefined;
  perPage?: number | undefined;
}

export interface IncidentPage {
  total: number;
  page: number;
  per_page: number;
  pages: number;
  /** Newest first. */
  items: IndexEntry[];
}

interface Slot {
  entry: IndexEntry;
  time: number;
  group: string;
}

/** Whether the text fields of `e` contain `needle` (lower case), ignoring case. */
function mentions(e: IndexEntry, needle: string): boolean {
  for (const f of [e.id, e.message, e.detector, e.kind, e.exception_type, e.rule, e.action]) {
    if (f?.toLowerCase().includes(needle)) return true;
  }
  return false;
}

/** The group key used in URLs: the fingerprint when there is one. */
export function groupParam(e: IndexEntry): string {
  return e.fingerprint ?? groupKey(e);
}

export const MAX_PER_PAGE = 500;

export class IncidentIndex {
  private readonly cursor: LineCursor;
  private slots: Slot[] = [];
  private byId = new Map<string, number>();
  private readonly groupCounts = new Map<string, number>();

  constructor(readonly indexFile: string) {
    this.cursor = new LineCursor(indexFile);
  }

  /** Index one line of index.jsonl (see {@link refresh}). */
  private index(line: CursorLine, added: string[], updated: string[]): void {
    let rec: unknown;
    try {
      rec = JSON.parse(line.text);
    } catch {
      return; // a malformed line is skipped, as readIndex does
    }
    if (rec === null || typeof rec !== "object" || Array.isArray(rec)) return;
    const e = normalizeIndexEntry(rec as Record<string, unknown>);
    if (!e) return;
    const slot: Slot = {
      entry: e,
      time: Date.parse(e.time),
      group: groupParam(e),
    };
    const at = this.byId.get(e.id);
    if (at === undefined) {
      this.byId.set(e.id, this.slots.length);
      this.slots.push(slot);
      this.groupCounts.set(slot.group, (this.groupCounts.get(slot.group) ?? 0) + 1);
      added.push(e.id);
    } else {
      const old = this.slots[at]!;
      if (old.group !== slot.group) {
        this.groupCounts.set(old.group, (this.groupCounts.get(old.group) ?? 1) - 1);
        this.groupCounts.set(slot.group, (this.groupCounts.get(slot.group) ?? 0) + 1);
      }
      this.slots[at] = slot;
      if (!added.includes(e.id)) updated.push(e.id);
    }
  }

  /** Read what index.jsonl gained; returns the ids that are new (in order) and those updated. */
  refresh(): { added: string[]; updated: string[]; reset: boolean } {
    // Lines are indexed as they are read: a first read of 10,000 lines keeps no array of them.
    const added: string[] = [];
    const updated: string[] = [];
    const reset = this.cursor.each(
      (line) => this.index(line, added, updated),
      () => {
        this.slots = [];
        this.byId = new Map();
        this.groupCounts.clear();
      },
    );
    return { added, updated, reset };
  }

  get size(): number {
    return this.slots.length;
  }

  get(id: string): IndexEntry | null {
    const at = this.byId.get(id);
    return at === undefined ? null : this.slots[at]!.entry;
  }

  /** The newest `n` incidents, newest first. */
  newest(n: number): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (let i = this.slots.length - 1; i >= 0 && out.length < n; i--) out.push(this.slots[i]!.entry);
    return out;
  }

  /** How many incidents share this incident's group. */
  groupSize(e: IndexEntry): number {
    return this.groupCounts.get(groupParam(e)) ?? 0;
  }

  /** Earlier incidents of the same group (oldest first), at most `limit` of the newest ones. */
  earlier(e: IndexEntry, limit = 20): IndexEntry[] {
    const g = groupParam(e);
    const at = this.byId.get(e.id) ?? this.slots.length;
    const out: IndexEntry[] = [];
    for (let i = at - 1; i >= 0 && out.length < limit; i--) {
      const s = this.slots[i]!;
      if (s.group === g) out.push(s.entry);
    }
    return out.reverse();
  }

  /** Distinct detectors and kinds (for the filter menus), sorted. */
  facets(): { detectors: string[]; kinds: string[] } {
    const d = new Set<string>();
    const k = new Set<string>();
    for (const s of this.slots) {
      if (s.entry.detector) d.add(s.entry.detector);
      if (s.entry.kind) k.add(s.entry.kind);
    }
    return { detectors: [...d].sort(), kinds: [...k].sort() };
  }

  /** Calls `visit` for each slot matching `q`, newest first. */
  private scan(q: IncidentQuery, visit: (s: Slot) => void): void {
    const needle = q.q?.trim().toLowerCase() ?? "";
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const s = this.slots[i]!;
      if (q.detector && s.entry.detector !== q.detector) continue;
      if (q.kind && s.entry.kind !== q.kind) continue;
      if (q.group && s.group !== q.group) continue;
      if (q.since != null && !(s.time >= q.since)) continue;
      if (q.until != null && !(s.time <= q.until)) continue;
      if (needle && !mentions(s.entry, needle)) continue;
      visit(s);
    }
  }

  private matching(q: IncidentQuery): Slot[] {
    const out: Slot[] = [];
    this.scan(q, (s) => out.push(s));
    return out;
  }

  /** One page of the matching incidents, newest first (keeps only the page, not every match). */
  query(q: IncidentQuery): IncidentPage {
    const perPage = Math.min(MAX_PER_PAGE, Math.max(1, q.perPage ?? 50));
    let total = 0;
    this.scan(q, () => total++);
    const pages = Math.max(1, Math.ceil(total / perPage));
    const page = Math.min(pages, Math.max(1, q.page ?? 1));
    const from = (page - 1) * perPage;
    const items: IndexEntry[] = [];
    let k = 0;
    this.scan(q, (s) => {
      if (k >= from && k < from + perPage) items.push(s.entry);
      k++;
    });
    return { total, page, per_page: perPage, pages, items };
  }

  /** Groups of the matching incidents (same failure = same fingerprint), newest group first. */
  groups(q: IncidentQuery): { total: number; groups: IncidentGroup[] } {
    const entries = this.matching({ ...q, page: undefined }).map((s) => s.entry);
    entries.reverse();
    const groups = groupEntries(entries).reverse();
    return { total: groups.length, groups };
  }
}
