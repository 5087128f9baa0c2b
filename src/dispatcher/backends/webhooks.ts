/**
 * @module
 * Outbound-only backends: `slack_webhook` (an incoming webhook: `{text, blocks}`, answers `ok`;
 * it cannot thread and cannot be asked what it has posted) and `discord_webhook` (`?wait=true`
 * returns the message; with `forum: true` the first message of a thread_key opens a forum post
 * (`thread_name`) whose channel id later messages use as `?thread_id=`). Neither can look up a
 * message, so a delivery in doubt after a crash is sent again: at-least-once, documented in
 * docs/dispatcher.md. Neither reads replies: commands need slack_api or discord_bot.
 */
import { clip, discordEmbed, plainText, slackBlocks } from "../../notify/message.ts";
import { requestJson } from "../http.ts";
import { type Backend, DeliveryError, type Outgoing, type Posted } from "../types.ts";
import { footerOf } from "./discord-bot.ts";

export class SlackWebhookBackend implements Backend {
  readonly name = "slack_webhook" as const;
  readonly platform = "slack" as const;
  readonly inbound = false;
  readonly threads = false;
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 15_000,
  ) {}

  async post(m: Outgoing): Promise<Posted> {
    await requestJson(
      this.url,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: plainText(m.message), blocks: slackBlocks(m.message) }),
      },
      { timeoutMs: this.timeoutMs, what: "slack webhook" },
    );
    return { id: "-", thread: null };
  }
}

export class DiscordWebhookBackend implements Backend {
  readonly name = "discord_webhook" as const;
  readonly platform = "discord" as const;
  readonly inbound = false;
  readonly threads: boolean;
  constructor(
    private readonly url: string,
    private readonly forum = false,
    private readonly timeoutMs = 15_000,
  ) {
    this.threads = forum;
  }

  async post(m: Outgoing, opensThread: boolean): Promise<Posted> {
    const u = new URL(this.url);
    u.searchParams.set("wait", "true");
    if (m.thread) u.searchParams.set("thread_id", m.thread);
    const body: Record<string, unknown> = {
      content: clip(plainText(m.message), 2000),
      embeds: [discordEmbed(m.message, footerOf(m.key))],
      allowed_mentions: { parse: [] },
    };
    if (this.forum && opensThread && !m.thread) body.thread_name = clip(m.message.summary, 100);
    const res = await requestJson(
      u.toString(),
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
      { timeoutMs: this.timeoutMs, what: "discord webhook" },
    );
    const msg = res.json as { id?: string; channel_id?: string } | null;
    if (!msg?.id) throw new DeliveryError("discord webhook: answer has no message id", true, true);
    // A forum post's thread is the channel the message landed in.
    return { id: msg.id, thread: m.thread ?? (this.forum && opensThread ? (msg.channel_id ?? null) : null) };
  }
}
