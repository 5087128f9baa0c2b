/**
 * @module
 * `autosentry session apply`: a Claude Code session (dispatch.mode: session) queues what the monitor
 * should do about an incident.
 *
 * ```
 * autosentry session apply --incident ID --action KIND [--set NAME=VALUE]... [--command ARG]...
 *                          [--timeout S] [--rule NAME] [--source rule|claude|manual] [--no-notify] [-c PATH]
 * ```
 * Appends one line to `dispatch.action_queue_path` (see src/session/queue.ts); the monitor applies it
 * on its next tick. The incident must exist; restart_with_env needs --set, custom_command needs
 * --command (one argv word each). Exit 0 once queued, 2 for bad options, 1 for an unknown incident.
 */
import { type Command, Option } from "@commander-js/extra-typings";
import { isValidIncidentId, resolveIncidentDir } from "../../incidents/paths.ts";
import { appendSessionAction, type SessionSource } from "../../session/queue.ts";
import { addConfigOption, loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import { actionFromOptions, collectList, collectSet, positiveSeconds } from "./healer.ts";

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
  ).action((opts) => {
    const what = "autosentry session apply";
    const action = actionFromOptions(
      what,
      opts.action,
      { set: opts.set, command: opts.command, timeout: opts.timeout, notify: opts.notify },
      false,
    )!;
    if (!isValidIncidentId(opts.incident)) {
      throw new CliExit(EXIT.usage, `${what}: not an incident id: ${JSON.stringify(opts.incident)}`);
    }
    const cfg = loadConfigForCli(opts, { allowMissing: true });
    const c = cfg.data;
    if (resolveIncidentDir(c.incidents_dir, opts.incident) === null) {
      throw new CliExit(EXIT.failure, `${what}: no incident ${opts.incident} in ${c.incidents_dir}`);
    }
    const line = appendSessionAction(c.dispatch.action_queue_path, {
      incident_id: opts.incident,
      rule: opts.rule ?? null,
      source: opts.source as SessionSource,
      action,
    });
    process.stdout.write(
      `queued ${action.kind} for incident ${opts.incident} (${line.id}) in ${c.dispatch.action_queue_path}\n`,
    );
    if (c.dispatch.mode !== "session") {
      process.stderr.write(
        `${what}: warning: dispatch.mode is ${c.dispatch.mode}; the monitor applies queued actions only under dispatch.mode: session\n`,
      );
    }
  });
}
