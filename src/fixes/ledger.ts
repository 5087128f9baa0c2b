/**
 * @module
 * The attempts ledger, `.autosentry/attempts.tsv`: one row per healing attempt, in the Python
 * tool's layout so its `analyze` (and `cut`, `awk`, spreadsheets) read ours unchanged.
 *
 * Columns, tab-separated, with a header row:
 * `timestamp incident_id detector source branch status duration_seconds description`
 * - `timestamp`: ISO-8601 UTC as Python's `datetime.isoformat()` writes it
 *   (`2026-11-22T03:04:05.123000+00:00`).
 * - `source`: the rule's name, or `claude` for the agent, `manual` for an operator.
 * - `status`: `pending | kept | discarded | crashed | regressed` (anything else reads as `pending`).
 * - `duration_seconds`: a float (`600.0`); `description`: the detection message, ≤ 200 characters.
 * Tabs, CR and LF inside values become spaces.
 *
 * Writes: a new attempt is appended as one `write` of a whole line (the header first when the file
 * is new or empty; a torn last line from a crash is ended first, so rows never merge). A status
 * change rewrites the file atomically (temporary file, fsync, rename) with the *most recent* row of
 * that (incident_id, source) changed in place — the Python tool's semantics, without its
 * non-atomic window. An append-only "status event" log would be cheaper but every Python-layout
 * reader would count each event as another attempt; at one row per attempt a rewrite costs
 * milliseconds even at 100 000 rows. The monitor is the only writer (it holds the monitor lock), so
 * rewrites never race appends.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { openAppendNoFollow } from "../util/safe-open.ts";

export const LEDGER_COLUMNS = [
  "timestamp",
  "incident_id",
  "detector",
  "source",
  "branch",
  "status",
  "duration_seconds",
  "description",
] as const;

export const ATTEMPT_STATUSES = ["pending", "kept", "discarded", "crashed", "regressed"] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** One row. Field names are the column names. */
export interface Attempt {
  timestamp: string;
  incident_id: string;
  detector: string;
  source: string;
  branch: string;
  status: AttemptStatus;
  duration_seconds: number;
  description: string;
}

/** The ledger's path for a project root (fixed, as in the Python tool). */
export function ledgerPath(projectRoot: string): string {
  return path.join(projectRoot, ".autosentry", "attempts.tsv");
}

/** Python's `datetime.now(timezone.utc).isoformat()` for an epoch-ms time. */
export function isoTimestamp(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000+00:00");
}

const HEADER_LINE = `${LEDGER_COLUMNS.join("\t")}\n`;
const STATUS_SET = new Set<string>(ATTEMPT_STATUSES);

function asStatus(s: string | undefined): AttemptStatus {
  return s !== undefined && STATUS_SET.has(s) ? (s as AttemptStatus) : "pending";
}

function clean(v: string): string {
  return v.replace(/[\t\r\n]/g, " ");
}

/** `600.0`, `12.5`: Python's `str(float)` for the values we write. */
function pyFloat(n: number): string {
  if (!Number.isFinite(n)) return "0.0";
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/** One ledger line (with its newline). */
export function formatAttempt(a: Attempt): string {
  return `${[
    clean(a.timestamp),
    clean(a.incident_id),
    clean(a.detector),
    clean(a.source),
    clean(a.branch),
    a.status,
    pyFloat(a.duration_seconds),
    clean(a.description),
  ].join("\t")}\n`;
}

/** Where each column sits in a row (-1: the file has no such column). */
export type LedgerColumnIndex = Record<(typeof LEDGER_COLUMNS)[number], number>;

/**
 * The text without a leading UTF-8 byte order mark: a ledger saved by a spreadsheet or an editor
 * may start with one, and the header's first column then read as `\uFEFFtimestamp`, which lost
 * the timestamp column and skipped every row silently.
 */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The column positions a file's first line gives: a header row names them (`header: true`, the
 * line is not a row); a file without one uses the standard order and its first line is a row.
 */
export function ledgerColumns(firstLine: string): { header: boolean; idx: LedgerColumnIndex } {
  let columns: readonly string[] = LEDGER_COLUMNS;
  const header = firstLine.split("\t").includes("incident_id");
  if (header) columns = firstLine.replace(/\r$/, "").split("\t");
  const at = (name: string): number => columns.indexOf(name);
  return {
    header,
    idx: {
      timestamp: at("timestamp"),
      incident_id: at("incident_id"),
      detector: at("detector"),
      source: at("source"),
      branch: at("branch"),
      status: at("status"),
      duration_seconds: at("duration_seconds"),
      description: at("description"),
    },
  };
}

/** One line (without its newline) as a row; null for a blank line or a row that is not an attempt. */
export function parseLedgerLine(raw: string, idx: LedgerColumnIndex): Attempt | null {
  const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  if (line === "") return null;
  const f = line.split("\t");
  const get = (k: number): string => (k < 0 ? "" : (f[k] ?? ""));
  // A row that is not an attempt (a torn or foreign line: no incident id, no parseable time) is
  // skipped; counted, it was a phantom "pending" attempt (issue 16, finding 11).
  if (get(idx.incident_id).trim() === "" || Number.isNaN(Date.parse(get(idx.timestamp)))) return null;
  const dur = Number.parseFloat(get(idx.duration_seconds));
  return {
    timestamp: get(idx.timestamp),
    incident_id: get(idx.incident_id),
    detector: get(idx.detector),
    source: get(idx.source),
    branch: get(idx.branch),
    status: asStatus(get(idx.status) || undefined),
    duration_seconds: Number.isFinite(dur) ? dur : 0,
    description: get(idx.description),
  };
}

/** Parse ledger text. The header names the columns (a file without one uses the standard order); short rows are padded. */
export function parseLedger(text: string): Attempt[] {
  const lines = withoutBom(text).split("\n");
  const { header, idx } = ledgerColumns(lines[0]!);
  const rows: Attempt[] = [];
  for (let i = header ? 1 : 0; i < lines.length; i++) {
    const row = parseLedgerLine(lines[i]!, idx);
    if (row) rows.push(row);
  }
  return rows;
}

/** Read the ledger; a missing file reads as no rows. */
export function readLedger(file: string): Attempt[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return parseLedger(text);
}

export interface NewAttempt {
  incident_id: string;
  detector: string;
  source: string;
  branch?: string | null;
  status?: AttemptStatus;
  duration_seconds?: number;
  /** The detection message; cut to 200 characters. */
  description: string;
  /** Epoch ms; default now. */
  at?: number;
}

/** Append one attempt (header first when the file is new or empty). Returns the row written. */
export function appendAttempt(file: string, a: NewAttempt): Attempt {
  const row: Attempt = {
    timestamp: isoTimestamp(a.at ?? Date.now()),
    incident_id: a.incident_id,
    detector: a.detector,
    source: a.source,
    branch: a.branch ?? "",
    status: a.status ?? "pending",
    duration_seconds: a.duration_seconds ?? 0,
    description: a.description.slice(0, 200),
  };
  const fd = openAppendNoFollow(file, true);
  try {
    const size = fs.fstatSync(fd).size;
    let prefix = "";
    if (size === 0) {
      prefix = HEADER_LINE;
    } else {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = "\n"; // a torn line from a crash: end it so rows never merge
    }
    fs.writeSync(fd, prefix + formatAttempt(row));
  } finally {
    fs.closeSync(fd);
  }
  return row;
}

export interface AttemptUpdate {
  status: AttemptStatus;
  duration_seconds?: number;
  /** Replace the branch column (e.g. the fix branch was created after the row was written). */
  branch?: string;
}

/**
 * Change the most recent row of (incident_id, source); the file is rewritten atomically with every
 * other byte as it was. Returns false (and writes nothing) when there is no such row.
 */
export function updateAttempt(
  file: string,
  incidentId: string,
  source: string,
  update: AttemptUpdate,
): boolean {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  const nl = text.indexOf("\n");
  const firstLine = (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, "");
  const hasHeader = firstLine.split("\t").includes("incident_id");
  const header = hasHeader ? `${firstLine}\n` : HEADER_LINE;
  const firstData = hasHeader ? (nl === -1 ? text.length : nl + 1) : 0;
  // Scan lines from the end, parsing only candidates: the most recent match wins.
  let end = text.endsWith("\n") ? text.length - 1 : text.length;
  while (end >= firstData) {
    const start = text.lastIndexOf("\n", end - 1) + 1;
    if (start < firstData) break;
    const row = parseLedger(header + text.slice(start, end))[0];
    if (row && row.incident_id === clean(incidentId) && row.source === clean(source)) {
      const changed: Attempt = {
        ...row,
        status: update.status,
        duration_seconds: update.duration_seconds ?? row.duration_seconds,
        branch: update.branch ?? row.branch,
      };
      if (header !== HEADER_LINE) {
        // A file in another column order: write it back in the standard layout.
        const rows = parseLedger(text);
        const i = rows.findLastIndex((r) => r.incident_id === row.incident_id && r.source === row.source);
        rows[i] = changed;
        writeFileAtomicSync(file, HEADER_LINE + rows.map(formatAttempt).join(""));
        return true;
      }
      writeFileAtomicSync(file, text.slice(0, start) + formatAttempt(changed).slice(0, -1) + text.slice(end));
      return true;
    }
    end = start - 1;
  }
  return false;
}
