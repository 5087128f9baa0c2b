/**
 * @module
 * Choosing the backend, as the Python tool does (inventory §4.13): `--backend` wins; otherwise a
 * Slack bot token (SLACK_BOT_TOKEN) → slack_api, a Discord bot token (DISCORD_BOT_TOKEN) →
 * discord_bot, a Slack incoming webhook (SLACK_WEBHOOK_URL) → slack_webhook, a Discord webhook
 * (DISCORD_WEBHOOK_URL) → discord_webhook, else stdout. The outbox is that of the first notifier
 * of the backend's platform (stdout: the first outbox notifier of any platform), resolved against
 * the project root; the channel is `--channel`, else that notifier's.
 *
 * `AUTOSENTRY_SLACK_API_URL` / `AUTOSENTRY_DISCORD_API_URL` point the API backends elsewhere
 * (Slack GovSlack, a proxy, tests).
 */
import * as path from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import type { NotifierSpec } from "../config/schema.ts";
import { outboxPathOf } from "../notify/build.ts";
import { DiscordBotBackend } from "./backends/discord-bot.ts";
import { SlackApiBackend } from "./backends/slack-api.ts";
import { StdoutBackend } from "./backends/stdout.ts";
import { DiscordWebhookBackend, SlackWebhookBackend } from "./backends/webhooks.ts";
import type { Backend, BackendName } from "./types.ts";

export const BACKENDS: readonly BackendName[] = [
  "stdout",
  "slack_webhook",
  "slack_api",
  "discord_webhook",
  "discord_bot",
];

export interface BackendFlags {
  backend?: string | undefined;
  channel?: string | undefined;
  slackToken?: string | undefined;
  discordToken?: string | undefined;
  webhookUrl?: string | undefined;
  discordWebhookUrl?: string | undefined;
  botUserId?: string | undefined;
  discordBotUserId?: string | undefined;
  discordForum?: boolean | undefined;
}

export interface DispatchSetup {
  backend: Backend;
  outboxPath: string;
  channel: string | null;
  /** Ledger and lock, beside the outbox's project state (`.autosentry/`). */
  ledgerPath: string;
  lockPath: string;
  notifier: NotifierSpec;
}

/** A user error in choosing the backend (exit 2 in the CLI). */
export class DispatchSetupError extends Error {}

/** The backend name from flags and environment. */
export function chooseBackend(flags: BackendFlags, env: Record<string, string | undefined>): BackendName {
  if (flags.backend) {
    const b = flags.backend === "webhook" ? "slack_webhook" : flags.backend; // the Python tool's name
    if (!(BACKENDS as string[]).includes(b))
      throw new DispatchSetupError(`unknown backend "${flags.backend}" (one of ${BACKENDS.join(", ")})`);
    return b as BackendName;
  }
  if (flags.slackToken ?? env.SLACK_BOT_TOKEN) return "slack_api";
  if (flags.discordToken ?? env.DISCORD_BOT_TOKEN) return "discord_bot";
  if (flags.webhookUrl ?? env.SLACK_WEBHOOK_URL) return "slack_webhook";
  if (flags.discordWebhookUrl ?? env.DISCORD_WEBHOOK_URL) return "discord_webhook";
  return "stdout";
}

function need(v: string | undefined, what: string): string {
  if (!v) throw new DispatchSetupError(`${what} is not set`);
  return v;
}

/** Build the backend and find its outbox. */
export function setupDispatch(
  cfg: LoadedConfig,
  flags: BackendFlags,
  env: Record<string, string | undefined> = process.env,
): DispatchSetup {
  const name = chooseBackend(flags, env);
  const platform = name.startsWith("slack") ? "slack" : name.startsWith("discord") ? "discord" : null;
  const notifier = cfg.data.notifiers.find((n) =>
    platform ? n.kind === `${platform}_outbox` : n.kind === "slack_outbox" || n.kind === "discord_outbox",
  );
  if (!notifier) {
    throw new DispatchSetupError(
      `backend ${name} delivers a ${platform ?? "slack or discord"}_outbox, and the config has no such notifier (add \`- kind: ${platform ?? "slack"}_outbox\` under notifiers:)`,
    );
  }
  const outboxPath = outboxPathOf(notifier, cfg.root) as string;
  const channel = flags.channel ?? notifier.channel ?? null;
  let backend: Backend;
  switch (name) {
    case "stdout":
      backend = new StdoutBackend();
      break;
    case "slack_api":
      backend = new SlackApiBackend({
        token: need(
          flags.slackToken ?? env.SLACK_BOT_TOKEN,
          "the Slack bot token (--slack-token or SLACK_BOT_TOKEN)",
        ),
        baseUrl: env.AUTOSENTRY_SLACK_API_URL,
        botUserId: flags.botUserId ?? env.SLACK_BOT_USER_ID,
      });
      if (!channel)
        throw new DispatchSetupError("slack_api needs a channel id (--channel or the notifier's channel)");
      break;
    case "discord_bot":
      backend = new DiscordBotBackend({
        token: need(
          flags.discordToken ?? env.DISCORD_BOT_TOKEN,
          "the Discord bot token (--discord-token or DISCORD_BOT_TOKEN)",
        ),
        baseUrl: env.AUTOSENTRY_DISCORD_API_URL,
        botUserId: flags.discordBotUserId ?? env.DISCORD_BOT_USER_ID,
      });
      if (!channel)
        throw new DispatchSetupError("discord_bot needs a channel id (--channel or the notifier's channel)");
      break;
    case "slack_webhook":
      backend = new SlackWebhookBackend(
        need(
          flags.webhookUrl ?? env.SLACK_WEBHOOK_URL,
          "the Slack webhook URL (--webhook-url or SLACK_WEBHOOK_URL)",
        ),
      );
      break;
    case "discord_webhook":
      backend = new DiscordWebhookBackend(
        need(
          flags.discordWebhookUrl ?? env.DISCORD_WEBHOOK_URL,
          "the Discord webhook URL (--discord-webhook-url or DISCORD_WEBHOOK_URL)",
        ),
        flags.discordForum ?? env.DISCORD_WEBHOOK_FORUM === "1",
      );
      break;
  }
  const stateDir = path.dirname(cfg.data.state_path);
  const base = path.basename(outboxPath).replace(/\.jsonl$/, "");
  return {
    backend,
    outboxPath,
    channel,
    ledgerPath: path.join(stateDir, "dispatch", `${base}.${name}.ledger.jsonl`),
    lockPath: path.join(stateDir, "dispatch", `${base}.lock`),
    notifier,
  };
}
