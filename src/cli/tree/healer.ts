/**
 * @module
 * `autosentry healer respond` in the command tree: names, arguments, options and descriptions,
 * loaded at every start (the whole tree is built for help, completion and suggestions; only this
 * part to run one of its commands). Each action imports ../commands/healer.ts, the implementation,
 * only when the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";
import { collectList, collectSet, positiveSeconds } from "./parsers.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const healer = program
    .command("healer")
    .description("answer the interactive healer (healing.claude.mode: interactive)");
  addConfigOption(
    healer
      .command("respond")
      .description("write the response to the waiting recovery request")
      .option(
        "--action <kind>",
        "restart | restart_with_env | pause | abort | custom_command | none",
        "restart",
      )
      .option("-s, --set <NAME=VALUE>", "restart_with_env: a variable to set (repeatable)", collectSet, {})
      .option("--command <arg>", "custom_command: one argv word (repeatable, in order)", collectList, [])
      .option("--timeout <seconds>", "custom_command: kill it after this long", positiveSeconds)
      .option("-d, --diagnosis <text>", "what you found, for the incident report")
      .option("--incident-id <id>", "the incident answered (default: the waiting request's)"),
  ).action(async (opts) => (await import("../commands/healer.ts")).healerRespondCommand(opts));
}
