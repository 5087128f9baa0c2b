/**
 * @module
 * `autosentry session apply` in the command tree: names, arguments, options and descriptions,
 * loaded at every start (the whole tree is built for help, completion and suggestions; only this
 * part to run one of its commands). Each action imports ../commands/session.ts, the implementation,
 * only when the command runs (issue 13; docs/architecture.md, "CLI").
 */
import { type Command, Option } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";
import { collectList, collectSet, positiveSeconds } from "./parsers.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const session = program
    .command("session")
    .description("hand actions from a Claude Code session to the monitor (dispatch.mode: session)");
  addConfigOption(
    session
      .command("apply")
      .description("queue an action for an incident; the monitor applies it on its next tick")
      .requiredOption("--incident <id>", "the incident the action answers")
      .requiredOption("--action <kind>", "restart | restart_with_env | pause | abort | custom_command")
      .option("-s, --set <NAME=VALUE>", "restart_with_env: a variable to set (repeatable)", collectSet, {})
      .option("--command <arg>", "custom_command: one argv word (repeatable, in order)", collectList, [])
      .option("--timeout <seconds>", "custom_command: kill it after this long", positiveSeconds)
      .option("--rule <name>", "the rule whose action this is")
      .addOption(
        new Option("--source <source>", "who decided")
          .choices(["rule", "claude", "manual"])
          .default("manual"),
      )
      .option("--no-notify", "no notification when it is applied"),
  ).action(async (opts) => (await import("../commands/session.ts")).sessionApplyCommand(opts));
}
