/**
 * @module
 * `autosentry incidents list|show` in the command tree: names, arguments, options and descriptions,
 * loaded at every start (the whole tree is built for help, completion and suggestions; only this
 * part to run one of its commands). Each action imports ../commands/incidents.ts, the
 * implementation, only when the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";
import { count } from "./parsers.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const incidents = program.command("incidents").description("List and show recorded incidents");

  addConfigOption(incidents.command("list").description("Table of the newest incidents, newest last"))
    .option("-n, --limit <n>", "how many incidents (or groups)", count, 20)
    .option("--json", "one JSON object per line (the index entries)")
    .option("--group", "each failure once (by fingerprint) with its count, first and last seen")
    .action(async (opts) => (await import("../commands/incidents.ts")).incidentsListCommand(opts));

  addConfigOption(incidents.command("show").description("Print an incident's report.md"))
    .argument("<id>", "incident id as `incidents list` shows it, any unique prefix of it, or `last`")
    .option("--json", "print the index entry and the files of the folder as JSON")
    .action(async (id, opts) => (await import("../commands/incidents.ts")).incidentsShowCommand(id, opts));
}
