/**
 * @module
 * `autosentry events [--kind K[,K]] [--since T] [--until T] [--incident ID] [-n N] [--follow] [--json]`:
 * the journal (`logs/events.jsonl`), filtered, oldest first. `--json` prints each record as the
 * journal holds it, one object per line (docs/json-api.md); `--follow` keeps printing new events
 * until Ctrl-C. Works with or without a running monitor; reads through the same index as the web
 * viewer (src/web/journal-index.ts), so a long journal is not parsed into memory.
 */
import { type Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { monitorPaths } from "../../monitor/paths.ts";
import { type EventQuery, type JournalEventRow, JournalIndex } from "../../web/journal-index.ts";
import { parseTimeBound } from "../../web/time-bound.ts";
import { addConfigOption, loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";

const HEAD = new Set(["seq", "schema_version", "time", "run_id", "stage", "event"]);

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number");
  return Number(value);
}

function collect(value: string, prev: string[] | undefined): string[] {
  return [
    ...(prev ?? []),
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

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

export function register(program: Command): void {
  const cmd = program
    .command("events")
    .description("print the journal (logs/events.jsonl), filtered; --follow for new events")
    .option("--kind <kinds>", "only these event kinds (comma-separated, repeatable)", collect)
    .option("--since <time>", "only events since a duration ago (30m, 24h, 7d) or an ISO time")
    .option("--until <time>", "only events up to a duration ago or an ISO time")
    .option("--incident <id>", "only events about this incident")
    .option("-n, --limit <n>", "only the newest N matching events", count)
    .option("-f, --follow", "keep printing new events until Ctrl-C")
    .option("--json", "one JSON object per line, as the journal holds it");
  addConfigOption(cmd).action(async (opts) => {
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
  });
}
