/**
 * @module
 * Reading incidents back: `index.jsonl` merged by id (a line is appended on create and again when
 * the outcome is recorded; the last one wins), and one incident folder for `incidents show`.
 * Ids from outside are validated and confined to the incidents directory (see paths.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readJsonl } from "../util/jsonl.ts";
import { isValidIncidentId, resolveIncidentDir } from "./paths.ts";
import type { IncidentRecord } from "./record.ts";
import type { IndexEntry } from "./types.ts";

/** `<incidentsDir>/index.jsonl` */
export function indexPath(incidentsDir: string): string {
  return path.join(incidentsDir, "index.jsonl");
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

function strOrNull(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/** An index line as an {@link IndexEntry}, or null when it has no usable id (lines from older versions keep their fields). */
export function normalizeIndexEntry(r: Record<string, unknown>): IndexEntry | null {
  if (typeof r.id !== "string" || !isValidIncidentId(r.id)) return null;
  return {
    ...r,
    id: r.id,
    time: str(r.time),
    kind: str(r.kind),
    detector: str(r.detector),
    message: str(r.message),
    exception_type: strOrNull(r.exception_type),
    fingerprint: strOrNull(r.fingerprint),
    rule: strOrNull(r.rule),
    action: strOrNull(r.action),
    source: strOrNull(r.source),
    generation: typeof r.generation === "number" ? r.generation : 0,
  };
}

/**
 * Every incident of the index, oldest first (in the order they were opened), each with the fields
 * of its last line. A torn or malformed line is skipped; a missing index reads as empty.
 */
export function readIndex(incidentsDir: string): IndexEntry[] {
  const byId = new Map<string, IndexEntry>();
  for (const rec of readJsonl(indexPath(incidentsDir)).records) {
    const e = normalizeIndexEntry(rec);
    // Map keeps the first insertion's position, so an update does not move an incident.
    if (e) byId.set(e.id, e);
  }
  return [...byId.values()];
}

/** The newest `limit` entries (all when undefined), newest last. */
export function newestEntries<T>(entries: T[], limit?: number): T[] {
  if (limit === undefined) return entries;
  return limit <= 0 ? [] : entries.slice(-limit);
}

/** Relative paths of the files under `dir`, sorted; links are listed, never followed. */
export function listFolderFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const ent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel === "" ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk("");
  return out.sort();
}

export interface IncidentView {
  id: string;
  /** Absolute folder. */
  dir: string;
  /** The index entry (last line for the id), null when the index does not list it. */
  entry: IndexEntry | null;
  /** report.md, null when missing. */
  report: string | null;
  /** incident.json, null when missing or unreadable. */
  record: IncidentRecord | null;
  /** Files in the folder, relative, sorted. */
  files: string[];
}

/** Why {@link readIncident} found nothing. */
export type IncidentLookupError = "invalid_id" | "not_found";

/** A regular file's text; null when missing, not a regular file, or a link (it could point anywhere). */
function readText(file: string): string | null {
  try {
    if (!fs.lstatSync(file).isFile()) return null;
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/**
 * Read incident `id` under `incidentsDir`; never reads outside it. Its index entry comes from
 * `entryOf` when the caller keeps the index in memory (the viewer); without it, index.jsonl is
 * read (a one-shot command such as `incidents show`).
 */
export function readIncident(
  incidentsDir: string,
  id: string,
  entryOf?: (id: string) => IndexEntry | null,
): { ok: true; incident: IncidentView } | { ok: false; error: IncidentLookupError } {
  if (!isValidIncidentId(id)) return { ok: false, error: "invalid_id" };
  const dir = resolveIncidentDir(incidentsDir, id);
  if (dir === null) return { ok: false, error: "not_found" };
  let record: IncidentRecord | null = null;
  const json = readText(path.join(dir, "incident.json"));
  if (json !== null) {
    try {
      record = JSON.parse(json) as IncidentRecord;
    } catch {
      record = null;
    }
  }
  const entry = entryOf ? entryOf(id) : (readIndex(incidentsDir).find((e) => e.id === id) ?? null);
  return {
    ok: true,
    incident: {
      id,
      dir,
      entry,
      report: readText(path.join(dir, "report.md")),
      record,
      files: listFolderFiles(dir),
    },
  };
}
