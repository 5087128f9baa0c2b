/**
 * @module
 * Grouping incidents by failure (`incidents list --group`, the viewer's grouped view): two
 * incidents are the same failure when their {@link groupKey} is equal.
 */
import type { IndexEntry } from "./types.ts";

/** One group of incidents of the same failure. */
export interface IncidentGroup {
  /** The incidents' fingerprint; null for a group of index lines written before fingerprints existed. */
  fingerprint: string | null;
  count: number;
  first_id: string;
  last_id: string;
  /** ISO 8601 UTC of the first and the newest incident. */
  first_seen: string;
  last_seen: string;
  kind: string;
  detector: string;
  exception_type: string | null;
  /** The newest incident's message. */
  message: string;
  ids: string[];
}

/**
 * What makes two incidents "the same failure" for `--group`: their fingerprint (exception types
 * and the functions and files of every frame, or the normalised message without a trace; see
 * src/incidents/fingerprint.ts). Index lines from before fingerprints existed fall back to
 * detector, kind, exception type and the message with digits removed.
 */
export function groupKey(e: IndexEntry): string {
  if (e.fingerprint) return `fp:${e.fingerprint}`;
  return JSON.stringify([e.detector, e.kind, e.exception_type, e.message.replace(/\d+/g, "#")]);
}

/** Group entries (oldest first) by {@link groupKey}; groups ordered by their newest incident, newest last. */
export function groupEntries(entries: IndexEntry[]): IncidentGroup[] {
  const groups = new Map<string, IncidentGroup>();
  for (const e of entries) {
    const key = groupKey(e);
    const g = groups.get(key);
    if (g) {
      groups.delete(key); // re-inserted below so the map stays ordered by newest incident
      g.count++;
      g.last_id = e.id;
      g.last_seen = e.time;
      g.message = e.message;
      g.ids.push(e.id);
      groups.set(key, g);
    } else {
      groups.set(key, {
        fingerprint: e.fingerprint ?? null,
        count: 1,
        first_id: e.id,
        last_id: e.id,
        first_seen: e.time,
        last_seen: e.time,
        kind: e.kind,
        detector: e.detector,
        exception_type: e.exception_type,
        message: e.message,
        ids: [e.id],
      });
    }
  }
  return [...groups.values()];
}
