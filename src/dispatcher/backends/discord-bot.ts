/**
 * @module
 * `discord_bot`: a bot token and the REST API (v10). The first message of a thread_key is posted
 * in the channel and a thread is started on it (`POST /channels/{c}/messages/{m}/threads`); a
 * thread started on a message has that message's id, so the thread is known the moment the
 * message is, and starting it again answers "already exists" (code 160004), which counts as done.
 * Later messages go into the thread channel. Every message carries its ledger key in the embed
 * footer and as `nonce` with `enforce_nonce` (Discord itself then refuses a duplicate for a few
 * minutes); `find` looks for the footer among the messages after the first attempt. Replies are
 * `GET /channels/{thread}/messages?after=`, oldest first, never the bot's own or another bot's.
 * Reading message text needs the bot's Message Content intent.
 */
import { createHash } from "node:crypto";
import { clip, discordEmbed, plainText } from "../../notify/message.ts";
import { requestJson } from "../http.ts";
import { type Backend, DeliveryError, type Outgoing, type Posted, type RepliesPage } from "../types.ts";

export interface DiscordBotOptions {
  token: string;
  /** REST base (default https://discord.com/api/v10). */
  baseUrl?: string;
  timeoutMs?: number;
  botUserId?: string | undefined;
}

interface DiscordMessage {
  id: string;
  channel_id?: string;
  content?: string;
  author?: { id: string; bot?: boolean };
  embeds?: Array<{ footer?: { text?: string } }>;
}

const DISCORD_EPOCH = 1420070400000n;

/** The smallest snowflake of `ms` (epoch ms): `?after=` it lists messages from then on. */
export function snowflakeAt(ms: number): string {
  const t = BigInt(Math.max(0, Math.floor(ms))) - DISCORD_EPOCH;
  return (t > 0n ? t << 22n : 0n).toString();
}

/** A nonce (≤ 25 characters) for a ledger key. */
export function nonceOf(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 25);
}

export function footerOf(key: string): string {
  return `autosentry · ${key}`;
}

export class DiscordBotBackend implements Backend {
  readonly name = "discord_bot" as const;
  readonly platform = "discord" as const;
  readonly inbound = true;
  readonly threads = true;
  private readonly base: string;
  private readonly timeoutMs: number;
  private botUser: string | null;

  constructor(private readonly opts: DiscordBotOptions) {
    this.base = (opts.baseUrl ?? "https://discord.com/api/v10").replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.botUser = opts.botUserId ?? null;
  }

  private headers(): Record<string, string> {
    return {
      authorization: `Bot ${this.opts.token}`,
      "content-type": "application/json",
      "user-agent": "DiscordBot (https://github.com/autosentry, 1)",
    };
  }

  private req(path: string, init: RequestInit, what: string) {
    return requestJson(
      `${this.base}${path}`,
      { ...init, headers: this.headers() },
      { timeoutMs: this.timeoutMs, what },
    );
  }

  async post(m: Outgoing): Promise<Posted> {
    const target = m.thread ?? m.channel;
    if (!target)
      throw new DeliveryError(
        "discord: no channel (set --channel or the notifier's channel)",
        false,
        false,
        undefined,
        true,
      );
    const res = await this.req(
      `/channels/${target}/messages`,
      {
        method: "POST",
        body: JSON.stringify({
          content: clip(plainText(m.message), 2000),
          embeds: [discordEmbed(m.message, footerOf(m.key))],
          nonce: nonceOf(m.key),
          enforce_nonce: true,
          allowed_mentions: { parse: [] },
        }),
      },
      "discord create message",
    );
    const id = (res.json as DiscordMessage | null)?.id;
    if (!id) throw new DeliveryError("discord create message: answer has no id", true, true);
    return { id, thread: m.thread ?? id };
  }

  async ensureThread(channel: string | null, thread: string): Promise<void> {
    if (!channel) return;
    try {
      await this.req(
        `/channels/${channel}/messages/${thread}/threads`,
        {
          method: "POST",
          body: JSON.stringify({ name: `autosentry-${thread}`, auto_archive_duration: 1440 }),
        },
        "discord start thread",
      );
    } catch (err) {
      // 160004: "A thread has already been created for this message" — an earlier attempt did it.
      if (err instanceof DeliveryError && /"code":\s*160004/.test(err.message)) return;
      throw err;
    }
  }

  async find(m: Outgoing): Promise<Posted | null> {
    const target = m.thread ?? m.channel;
    if (!target) return null;
    let after = snowflakeAt(m.firstAttemptAt - 60_000);
    for (let page = 0; page < 50; page++) {
      const res = await this.req(
        `/channels/${target}/messages?limit=100&after=${after}`,
        { method: "GET" },
        "discord list messages",
      );
      const msgs = (res.json as DiscordMessage[] | null) ?? [];
      const hit = msgs.find((x) => x.embeds?.some((e) => e.footer?.text === footerOf(m.key)));
      if (hit) return { id: hit.id, thread: m.thread ?? hit.id };
      if (msgs.length < 100) return null;
      after = msgs.reduce((a, x) => (BigInt(x.id) > BigInt(a) ? x.id : a), after);
    }
    return null;
  }

  private async botUserId(): Promise<string | null> {
    if (this.botUser === null) {
      const res = await this.req("/users/@me", { method: "GET" }, "discord get current user");
      this.botUser = (res.json as { id?: string } | null)?.id ?? "";
    }
    return this.botUser || null;
  }

  async replies(_channel: string | null, thread: string, after: string | null): Promise<RepliesPage> {
    const bot = await this.botUserId();
    const out: DiscordMessage[] = [];
    // Messages in a thread started on message T all have ids above T.
    let cursor = after ?? thread;
    for (let page = 0; page < 50; page++) {
      const res = await this.req(
        `/channels/${thread}/messages?limit=100&after=${cursor}`,
        { method: "GET" },
        "discord list messages",
      );
      const msgs = (res.json as DiscordMessage[] | null) ?? [];
      out.push(...msgs);
      if (msgs.length < 100) break;
      cursor = msgs.reduce((a, x) => (BigInt(x.id) > BigInt(a) ? x.id : a), cursor);
    }
    let last = after;
    for (const x of out) if (last === null || BigInt(x.id) > BigInt(last)) last = x.id;
    const replies = out
      .filter((x) => x.author && !x.author.bot && x.author.id !== bot && x.content?.trim())
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      .map((x) => ({ id: x.id, user: x.author?.id as string, text: x.content as string }));
    return { replies, last };
  }
}
