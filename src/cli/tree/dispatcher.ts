/**
 * @module
 * `autosentry dispatcher run|pending|retry` in the command tree: names, arguments, options and
 * descriptions, loaded at every start (the whole tree is built for help, completion and
 * suggestions; only this part to run one of its commands). Each action imports
 * ../commands/dispatcher.ts, the implementation, only when the command runs (issue 13;
 * docs/architecture.md, "CLI").
 */
import { type Command, Option } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** The options that choose and configure the delivery backend (`dispatcher run`, `pending`, `retry`). */
function backendOptions<C extends Command<[], Record<string, unknown>, Record<string, unknown>>>(cmd: C) {
  return cmd
    .option(
      "--backend <name>",
      "stdout | slack_webhook | slack_api | discord_webhook | discord_bot (default: from the environment)",
    )
    .option("--channel <id>", "channel for messages that name none (default: the notifier's channel)")
    .option("--slack-token <token>", "Slack bot token (default: $SLACK_BOT_TOKEN)")
    .option("--discord-token <token>", "Discord bot token (default: $DISCORD_BOT_TOKEN)")
    .option("--webhook-url <url>", "Slack incoming webhook (default: $SLACK_WEBHOOK_URL)")
    .option("--discord-webhook-url <url>", "Discord webhook (default: $DISCORD_WEBHOOK_URL)")
    .option(
      "--bot-user-id <id>",
      "the Slack bot's user id (default: $SLACK_BOT_USER_ID, else asked with auth.test)",
    )
    .option(
      "--discord-bot-user-id <id>",
      "the Discord bot's user id (default: $DISCORD_BOT_USER_ID, else asked)",
    )
    .option("--discord-forum", "discord_webhook: the channel is a forum; one post (thread) per thread_key");
}

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const dispatcher = program
    .command("dispatcher")
    .description("deliver slack_outbox/discord_outbox notifications and take commands from their threads");

  const run = backendOptions(
    dispatcher
      .command("run")
      .description("deliver the outbox to Slack, Discord or stdout, and read commands from the threads")
      .option("--once", "one pass, then exit")
      // The Python tool's inbox flags: commands now go to the monitor's control inbox and the
      // state is the ledger, so these are accepted (scripts keep working) and ignored, with a note.
      .addOption(new Option("--inbox-path <path>").hideHelp())
      .addOption(new Option("--state-path <path>").hideHelp())
      .addOption(new Option("--inbound-marker <path>").hideHelp())
      .addOption(new Option("--idle-inbound-seconds <n>").hideHelp())
      .option("--poll-seconds <n>", "seconds between passes (default: dispatch.poll_seconds)", Number),
  );
  addConfigOption(run).action(async (opts) =>
    (await import("../commands/dispatcher.ts")).dispatcherRunCommand(opts),
  );

  const pending = backendOptions(
    dispatcher
      .command("pending")
      .description("list notifications not delivered yet (and those given up)")
      .option("--json", "JSON output"),
  );
  addConfigOption(pending).action(async (opts) =>
    (await import("../commands/dispatcher.ts")).dispatcherPendingCommand(opts),
  );

  const retry = backendOptions(
    dispatcher
      .command("retry")
      .description("deliver given-up notifications again (all, or those named by the id `pending` shows)")
      .option("--json", "JSON output"),
  ).argument("[ids...]", "outbox ids (or ledger keys o<n>) of given-up messages (default: all)");
  addConfigOption(retry).action(async (ids, opts) =>
    (await import("../commands/dispatcher.ts")).dispatcherRetryCommand(ids, opts),
  );
}
