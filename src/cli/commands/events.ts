import { monitorPaths } from "../../monitor/paths.ts";
import { type EventQuery, type JournalEventRow, JournalIndex } from "../../web/journal-index.ts";
import { parseTimeBound } from "../../web/time-bound.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

const HEAD = new Set(["seq", "schema_version", "time", "run_id", "stage", "event"]);

/** One event as a line of text: time, event, stage, then its details as key=value. */
export function formatEvent(e: JournalEventRow): string {
  const time = typeof e.time === "string" ? e.time.slice(0, 19).replace("T", " ") : "-";
  const details = Object.entries(e)
    .filter(([k]) => !HEAD.has(k))
    .map(
      ([k, v]) =>
        `${k}=${typeof v === "string" ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`,
    )
    .join(" ");
  const stage = typeof e.stage === "string" && e.stage ? ` [${e.stage}]` : "";
  return `${time}  ${String(e.event ?? "?").padEnd(20)}${stage}${details ? ` ${details}` : ""}`;
}

/** The record as the journal holds it (without the index's sequence number). */
function asWritten(e: JournalEventRow): Record<string, unknown> {
  const { seq: _seq, ...rest } = e;
  return rest;
}

/** `events`' options. */
interface EventsOptions extends ConfigFlag {
  kind?: string[] | undefined;
  since?: string | undefined;
  until?: string | undefined;
  incident?: string | undefined;
  limit?: number | undefined;
  follow?: boolean | undefined;
  json?: boolean | undefined;
}

/** What `autosentry events` does (its options are declared in src/cli/tree/events.ts). */
export async function eventsCommand(opts: EventsOptions): Promise<void> {
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  const journalFile = monitorPaths(cfg.data).journal;
  let q: EventQuery;
  try {
    q = {
      kinds: opts.kind?.length ? opts.kind : undefined,
      since: parseTimeBound("--since", opts.since),
      until: parseTimeBound("--until", opts.until),
      incident: opts.incident,
    };
  } catch (err) {
    throw new CliExit(EXIT.usage, `autosentry events: ${(err as Error).message}`);
  }
  const index = new JournalIndex(journalFile);
  index.refresh();
  const print = (rows: JournalEventRow[]) => {
    if (rows.length === 0) return;
    process.stdout.write(
      rows.map((e) => (opts.json ? JSON.stringify(asWritten(e)) : formatEvent(e))).join("\n") + "\n",
    );
  };
  let rows: JournalEventRow[];
  if (opts.limit !== undefined) rows = index.query({ ...q, perPage: opts.limit, page: 1 }).items.reverse();
  else rows = index.since(-1, q);
  if (opts.limit === 0) rows = [];
  print(rows);
  if (!opts.follow) {
    if (!opts.json && rows.length === 0 && index.size === 0)
      process.stderr.write(`No events recorded yet (${journalFile} is empty or missing).\n`);
    return;
  }
  // Follow: only `until` is dropped (new events are later than any bound given).
  const followQ: EventQuery = { ...q, until: null };
  let last = index.size - 1;
  let stop = false;
  const done = () => {
    stop = true;
  };
  process.once("SIGINT", done);
  process.once("SIGTERM", done);
  while (!stop) {
    await Bun.sleep(250);
    const r = index.refresh();
    if (r.reset) last = -1;
    const fresh = index.since(last, followQ);
    last = index.size - 1;
    print(fresh);
  }
}
