/**
 * @module
 * One incident folder for the viewer, like `readIncident` (src/incidents/read.ts) but with the
 * index entry taken from the in-memory index: `readIncident` re-reads all of index.jsonl to find
 * it, which at 10,000 incidents would make each incident page read the whole index.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isValidIncidentId, resolveIncidentDir } from "../incidents/paths.ts";
import { type IncidentLookupError, type IncidentView, listFolderFiles } from "../incidents/read.ts";
import type { IncidentRecord } from "../incidents/record.ts";
import type { IncidentIndex } from "./incident-index.ts";

/** A regular file's text; null when missing, not a regular file, or a link. */
function readText(file: string): string | null {
  try {
    if (!fs.lstatSync(file).isFile()) return null;
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** Incident `id` under `incidentsDir` (never outside it), its entry from `index`. */
export function readIncidentFolder(
  incidentsDir: string,
  index: IncidentIndex,
  id: string,
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
  return {
    ok: true,
    incident: {
      id,
      dir,
      entry: index.get(id),
      report: readText(path.join(dir, "report.md")),
      record,
      files: listFolderFiles(dir),
    },
  };
}
