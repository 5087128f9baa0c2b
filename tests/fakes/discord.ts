/**
 * @module
 * A loopback-only fake of the Discord REST API (v10) endpoints autosentry's dispatcher uses, with
 * their real shapes (https://discord.com/developers/docs/resources/message):
 *
 * - `POST /channels/{id}/messages` `{content, embeds, nonce?, enforce_nonce?}` (`Authorization: Bot
 *   <token>`) → the message `{id, channel_id, content, author, embeds, nonce, timestamp}`; with
 *   `enforce_nonce` a nonce the same author used in the last few minutes returns that message
 *   again instead of creating one (as Discord does).
 * - `POST /channels/{id}/messages/{mid}/threads` `{name, auto_archive_duration}` → the thread
 *   channel, whose id is the message's; again → 400 `{code: 160004}`.
 * - `GET /channels/{id}/messages?after=&limit=` → messages after `after`, newest first.
 * - `GET /users/@me` → the bot user.
 * - `POST /webhooks/{id}/{token}?wait=true&thread_id=` `{content, embeds, thread_name?}` → the
 *   message (204 without `wait`); `thread_name` in a forum channel opens a post (a thread).
 *
 * Ids are snowflakes made from the clock. Faults per request as in the Slack fake: 429 with
 * `Retry-After` and `retry_after` in the body, 500 (optionally after the message was stored),
 * slow answers. `reply(...)` plays a person writing in a thread.
 */

export interface DiscordMsg {
  id: string;
  channel_id: string;
  content: string;
  author: { id: string; username: string; bot?: boolean };
  embeds: Array<Record<string, unknown>>;
  nonce?: string;
  timestamp: string;
  webhook_id?: string;
}

export type DiscordFault =
  | { status: 429; retryAfter: number }
  | { status: 500; afterCommit?: boolean }
  | { delayMs: number };

export interface FakeDiscordOptions {
  token?: string;
  botUserId?: string;
  /** Text channels that exist. */
  channels?: string[];
  /** Forum channels (webhook `thread_name` opens a post). */
  forums?: string[];
  /** `webhookId/webhookToken` → the channel it posts to. */
  webhooks?: Record<string, string>;
  fault?: (route: string, n: number) => DiscordFault | null;
}

export interface FakeDiscord {
  /** REST base (`<url>/api/v10`), for AUTOSENTRY_DISCORD_API_URL. */
  api: string;
  url: string;
  messages: DiscordMsg[];
  /** Thread id → parent channel id. */
  threads: Map<string, string>;
  requests: Array<{ route: string; method: string; at: number }>;
  reply(threadId: string, userId: string, text: string): string;
  inChannel(channelId: string): DiscordMsg[];
  close(): Promise<void>;
}

const EPOCH = 1420070400000n;

export function startFakeDiscord(opts: FakeDiscordOptions = {}): FakeDiscord {
  const token = opts.token ?? "discord-test-token";
  const botId = opts.botUserId ?? "900000000000000001";
  const channels = new Set(opts.channels ?? ["100000000000000001"]);
  const forums = new Set(opts.forums ?? []);
  const messages: DiscordMsg[] = [];
  const threads = new Map<string, string>();
  const requests: FakeDiscord["requests"] = [];
  const counts = new Map<string, number>();
  let last = 0n;
  const snowflake = () => {
    let id = (BigInt(Date.now()) - EPOCH) << 22n;
    if (id <= last) id = last + 1n;
    last = id;
    return id.toString();
  };
  const json = (v: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json", ...headers } });
  const exists = (c: string) => channels.has(c) || threads.has(c) || forums.has(c);
  const create = (
    channel: string,
    b: Record<string, unknown>,
    author: DiscordMsg["author"],
    webhookId?: string,
  ) => {
    const m: DiscordMsg = {
      id: snowflake(),
      channel_id: channel,
      content: String(b.content ?? ""),
      author,
      embeds: Array.isArray(b.embeds) ? (b.embeds as Array<Record<string, unknown>>) : [],
      timestamp: new Date().toISOString(),
    };
    if (typeof b.nonce === "string") m.nonce = b.nonce;
    if (webhookId) m.webhook_id = webhookId;
    messages.push(m);
    return m;
  };
  const routeOf = (p: string) =>
    p
      .replace(/^\/api\/v10/, "")
      .replace(/\/channels\/\d+\/messages\/\d+\/threads/, "/channels/{id}/messages/{mid}/threads")
      .replace(/\/channels\/\d+\/messages/, "/channels/{id}/messages")
      .replace(/\/webhooks\/[^/]+\/[^/]+/, "/webhooks/{id}/{token}");

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const p = url.pathname.replace(/^\/api\/v10/, "");
      const route = `${req.method} ${routeOf(url.pathname)}`;
      const n = (counts.get(route) ?? 0) + 1;
      counts.set(route, n);
      requests.push({ route, method: req.method, at: Date.now() });
      const fault = opts.fault?.(route, n) ?? null;
      if (fault && "delayMs" in fault) await Bun.sleep(fault.delayMs);
      if (fault && "status" in fault && fault.status === 429)
        return json(
          { message: "You are being rate limited.", retry_after: fault.retryAfter, global: false },
          429,
          {
            "retry-after": String(Math.ceil(fault.retryAfter)),
            "x-ratelimit-scope": "user",
          },
        );
      if (fault && "status" in fault && fault.status === 500 && !fault.afterCommit)
        return new Response("500: Internal Server Error", { status: 500 });
      let answer: Response;
      const wh = /^\/webhooks\/([^/]+)\/([^/]+)$/.exec(p);
      if (wh) {
        const target = opts.webhooks?.[`${wh[1]}/${wh[2]}`];
        if (!target || req.method !== "POST") answer = json({ message: "Unknown Webhook", code: 10015 }, 404);
        else {
          const b = (await req.json()) as Record<string, unknown>;
          let channel = target;
          const threadId = url.searchParams.get("thread_id");
          if (threadId) {
            if (threads.get(threadId) !== target)
              return json({ message: "Unknown Channel", code: 10003 }, 404);
            channel = threadId;
          } else if (typeof b.thread_name === "string") {
            if (!forums.has(target))
              return json(
                { message: "Webhooks can only create threads in forum channels", code: 220003 },
                400,
              );
            channel = snowflake();
            threads.set(channel, target);
          } else if (forums.has(target)) {
            return json(
              {
                message: "Webhooks posted to forum channels must have a thread_name or thread_id",
                code: 220001,
              },
              400,
            );
          }
          const m = create(channel, b, { id: String(wh[1]), username: "autosentry", bot: true }, wh[1]);
          answer = url.searchParams.get("wait") === "true" ? json(m) : new Response(null, { status: 204 });
        }
      } else if (req.headers.get("authorization") !== `Bot ${token}`) {
        answer = json({ message: "401: Unauthorized", code: 0 }, 401);
      } else if (p === "/users/@me" && req.method === "GET") {
        answer = json({ id: botId, username: "autosentry", discriminator: "0", bot: true });
      } else {
        const mt = /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/.exec(p);
        const mm = /^\/channels\/(\d+)\/messages$/.exec(p);
        if (mt && req.method === "POST") {
          const [, cid, mid] = mt as unknown as [string, string, string];
          const b = (await req.json()) as { name?: string };
          if (!messages.some((m) => m.id === mid && m.channel_id === cid))
            answer = json({ message: "Unknown Message", code: 10008 }, 404);
          else if (threads.has(mid))
            answer = json(
              { message: "A thread has already been created for this message", code: 160004 },
              400,
            );
          else {
            threads.set(mid, cid);
            answer = json(
              {
                id: mid,
                type: 11,
                guild_id: "1",
                parent_id: cid,
                name: b.name ?? "thread",
                message_count: 0,
              },
              201,
            );
          }
        } else if (mm && req.method === "POST") {
          const cid = mm[1] as string;
          if (!exists(cid)) answer = json({ message: "Unknown Channel", code: 10003 }, 404);
          else {
            const b = (await req.json()) as Record<string, unknown>;
            const dup =
              b.enforce_nonce === true && typeof b.nonce === "string"
                ? messages.find(
                    (m) =>
                      m.nonce === b.nonce &&
                      m.author.id === botId &&
                      Date.now() - Date.parse(m.timestamp) < 5 * 60_000,
                  )
                : undefined;
            answer = json(dup ?? create(cid, b, { id: botId, username: "autosentry", bot: true }));
          }
        } else if (mm && req.method === "GET") {
          const cid = mm[1] as string;
          if (!exists(cid)) answer = json({ message: "Unknown Channel", code: 10003 }, 404);
          else {
            const after = BigInt(url.searchParams.get("after") ?? "0");
            const limit = Math.min(Number(url.searchParams.get("limit") ?? 50) || 50, 100);
            // Discord answers the `limit` messages right after `after`, newest first.
            const list = messages
              .filter((m) => m.channel_id === cid && BigInt(m.id) > after)
              .slice(0, limit)
              .reverse();
            answer = json(list);
          }
        } else answer = json({ message: "404: Not Found", code: 0 }, 404);
      }
      if (fault && "status" in fault && fault.status === 500)
        return new Response("500: Internal Server Error", { status: 500 });
      return answer;
    },
  });

  const base = `http://127.0.0.1:${server.port}`;
  return {
    api: `${base}/api/v10`,
    url: base,
    messages,
    threads,
    requests,
    reply(threadId, userId, text) {
      return create(threadId, { content: text }, { id: userId, username: `user${userId}` }).id;
    },
    inChannel(channelId) {
      return messages.filter((m) => m.channel_id === channelId);
    },
    async close() {
      await server.stop(true);
    },
  };
}
