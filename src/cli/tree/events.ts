/**
 * @module
 * `autosentry events` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/events.ts, the implementation, only when
 * the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";
import { collectCommaList, count } from "./parsers.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const cmd = program
    .command("events")
    .description("print the journal (logs/events.jsonl), filtered; --follow for new events")
    .option("--kind <kinds>", "only these event kinds (comma-separated, repeatable)", collectCommaList)
    .option("--since <time>", "only events since a duration ago (30m, 24h, 7d) or an ISO time")
    .option("--until <time>", "only events up to a duration ago or an ISO time")
    .option("--incident <id>", "only events about this incident")
    .option("-n, --limit <n>", "only the newest N matching events", count)
    .option("-f, --follow", "keep printing new events until Ctrl-C")
    .option("--json", "one JSON object per line, as the journal holds it");
  addConfigOption(cmd).action(async (opts) => (await import("../commands/events.ts")).eventsCommand(opts));
}
