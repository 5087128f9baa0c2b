/**
 * @module
 * `autosentry incidents list [-n N] [--json] [--group]` (`--group`: each failure once, by its
 * fingerprint, with its count and when it was first and last seen) and `autosentry incidents show ID [--json]`:
 * the recorded incidents, read from `index.jsonl` and the incident folders. Both work while the
 * monitor runs or is down; neither writes anything. `show` validates the id and never reads
 * outside the incidents directory (inventory §6 item 34).
 */
import * as fs from "node:fs";
import { groupEntries } from "../../incidents/groups.ts";
import { isValidIncidentId } from "../../incidents/paths.ts";
import { newestEntries, readIncident, readIndex } from "../../incidents/read.ts";
import { escapeControls, escapeJsonControls } from "../../util/terminal-safe.ts";
import { listSome, matchPrefix } from "../../util/unique-prefix.ts";
import { CliExit, EXIT } from "../exit.ts";
import { clip, table } from "../format.ts";
import { statusConfig } from "../status-config.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/**
 * The incidents directory of the config in use (defaults when there is no config file), through the
 * record `status` keeps (src/cli/status-config.ts): validating the config on every call cost
 * ~25 ms of a ~36 ms `incidents list`. A changed or broken config is validated (and reported) as
 * every command does.
 */
async function incidentsDirFor(opts: { config?: string | undefined }): Promise<string> {
  return (await statusConfig(opts.config)).incidentsDir;
}

/** `2026-11-22 03:04:05` from an ISO timestamp (UTC, as the index writes it). */
function shortTime(iso: string): string {
  return iso === "" ? "-" : iso.slice(0, 19).replace("T", " ");
}

const dash = (v: string | null | undefined) => (v === null || v === undefined || v === "" ? "-" : v);

export interface ListOptions {
  limit: number;
  json?: boolean | undefined;
  group?: boolean | undefined;
}

/** The output of `incidents list` for the incidents under `dir`. */
export function renderList(dir: string, opts: ListOptions): string {
  const all = readIndex(dir);
  if (opts.group) {
    const groups = newestEntries(groupEntries(all), opts.limit);
    if (opts.json) return groups.map((g) => `${JSON.stringify(g)}\n`).join("");
    if (groups.length === 0) return `No incidents recorded in ${dir}\n`;
    const rows = [["count", "first seen", "last seen", "last id", "detector", "message"]];
    for (const g of groups) {
      rows.push([
        String(g.count),
        shortTime(g.first_seen),
        shortTime(g.last_seen),
        g.last_id,
        g.detector,
        clip(g.message, 80),
      ]);
    }
    return `${table(rows)}\n`;
  }
  const entries = newestEntries(all, opts.limit);
  if (opts.json) return entries.map((e) => `${JSON.stringify(e)}\n`).join("");
  if (entries.length === 0) return `No incidents recorded in ${dir}\n`;
  const rows = [["id", "kind", "detector", "rule", "action", "message"]];
  for (const e of entries) {
    rows.push([e.id, dash(e.kind), dash(e.detector), dash(e.rule), dash(e.action), clip(e.message, 80)]);
  }
  return `${table(rows)}\n`;
}

/**
 * Every incident id, oldest first: the index in the order incidents were opened, then folders the
 * index does not know yet (an incident being written), by name (which starts with its UTC time).
 */
function knownIncidentIds(dir: string): string[] {
  const ids = readIndex(dir).map((e) => e.id);
  const indexed = new Set(ids);
  return [
    ...ids,
    ...listIncidentFolders(dir)
      .filter((n) => !indexed.has(n))
      .sort(),
  ];
}

/** The incident `query` names: its whole id, a prefix only one incident id starts with, or `last`. */
export function resolveIncidentQuery(dir: string, query: string): string {
  const got = matchPrefix(query, knownIncidentIds(dir));
  if (got.ok) return got.id;
  if (got.error === "ambiguous") {
    throw new CliExit(
      EXIT.failure,
      `Cannot show incident: ${JSON.stringify(query)} names ${got.matches.length} incidents (${listSome(got.matches)}); give more of the id`,
    );
  }
  if (query === "last")
    throw new CliExit(EXIT.failure, `Cannot show incident: no incidents recorded in ${dir}`);
  return query; // not found: readIncident says so, with the id as given
}

/** The output of `incidents show`; throws {@link CliExit} (1) for an invalid or unknown id. */
export function renderShow(dir: string, query: string, opts: { json?: boolean | undefined }): string {
  const id = resolveIncidentQuery(dir, query);
  const got = readIncident(dir, id);
  if (!got.ok) {
    throw new CliExit(
      EXIT.failure,
      got.error === "invalid_id"
        ? `Cannot show incident: ${JSON.stringify(id)} is not an incident id (letters, digits, . _ : -)`
        : `Cannot show incident: no incident ${id} in ${dir} (see \`autosentry incidents list\`)`,
    );
  }
  const inc = got.incident;
  if (opts.json) {
    return `${JSON.stringify({ id: inc.id, dir: inc.dir, entry: inc.entry, files: inc.files }, null, 2)}\n`;
  }
  if (inc.report === null) {
    throw new CliExit(EXIT.failure, `Cannot show incident ${id}: report.md is missing in ${inc.dir}`);
  }
  return inc.report.endsWith("\n") ? inc.report : `${inc.report}\n`;
}

/** Folder names under the incidents directory that are incident ids (a folder not yet indexed counts). */
function listIncidentFolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && isValidIncidentId(d.name))
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** `incidents list`'s options. */
type IncidentsListOptions = ListOptions & ConfigFlag;

/** `incidents show`'s options. */
type IncidentsShowOptions = { json?: boolean | undefined } & ConfigFlag;

/** What `autosentry incidents list` does (its options are declared in src/cli/tree/incidents.ts). */
export async function incidentsListCommand(opts: IncidentsListOptions): Promise<void> {
  const text = renderList(await incidentsDirFor(opts), opts);
  // A child's escape sequences are shown, never sent to the terminal (src/util/terminal-safe.ts).
  process.stdout.write(opts.json ? escapeJsonControls(text) : escapeControls(text));
}

/** What `autosentry incidents show` does (its options are declared in src/cli/tree/incidents.ts). */
export async function incidentsShowCommand(id: string, opts: IncidentsShowOptions): Promise<void> {
  const text = renderShow(await incidentsDirFor(opts), id, opts);
  process.stdout.write(opts.json ? escapeJsonControls(text) : escapeControls(text));
}
