/**
 * @module
 * A loopback-only fake of the Slack Web API methods autosentry's dispatcher uses, with their real
 * request and response shapes (https://api.slack.com/methods):
 *
 * - `POST chat.postMessage` (JSON body `{channel, text, blocks?, thread_ts?, metadata?}`, bearer
 *   token) → `{ok, channel, ts, message}`; `{ok: false, error}` for `not_authed`, `invalid_auth`,
 *   `channel_not_found`, `thread_not_found`.
 * - `GET conversations.replies?channel&ts[&oldest&inclusive&limit&cursor&include_all_metadata]`
 *   → `{ok, messages: [parent, ...replies], has_more, response_metadata: {next_cursor}}`, each
 *   message `{type, user, text, ts, thread_ts, bot_id?, metadata?}` (metadata only when asked).
 * - `GET conversations.history?channel[&oldest…]` → top-level messages, newest first.
 * - `POST auth.test` → `{ok, url, team, user, team_id, user_id, bot_id}`.
 *
 * Faults are injected per request by `fault(method, n)`: `{status: 429, retryAfter}` (HTTP 429 with
 * `Retry-After`), `{status: 500}` (nothing done), `{status: 500, afterCommit: true}` (the message
 * is stored, then the answer is a 500: the client cannot know), `{delayMs}` (a slow answer).
 * `reply(...)` plays a person answering in a thread.
 */

export interface SlackMsg {
  type: "message";
  channel: string;
  ts: string;
  text: string;
  user: string;
  bot_id?: string;
  thread_ts?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

export type SlackFault =
  | { status: 429; retryAfter: number }
  | { status: 500; afterCommit?: boolean }
  | { delayMs: number };

export interface FakeSlackOptions {
  token?: string;
  botUserId?: string;
  /** Channels that exist (default: any id starting with C). */
  channels?: string[];
  fault?: (method: string, n: number) => SlackFault | null;
}

export interface FakeSlack {
  /** Base of the Web API (`<url>/api`), for AUTOSENTRY_SLACK_API_URL. */
  api: string;
  messages: SlackMsg[];
  requests: Array<{ method: string; http: string; at: number }>;
  /** A person's reply in a thread; returns its ts. */
  reply(channel: string, threadTs: string, user: string, text: string): string;
  /** Messages of a thread, parent first. */
  thread(threadTs: string): SlackMsg[];
  close(): Promise<void>;
}

export function startFakeSlack(opts: FakeSlackOptions = {}): FakeSlack {
  const token = opts.token ?? "xoxb-test-token";
  const bot = opts.botUserId ?? "UBOT";
  const messages: SlackMsg[] = [];
  const requests: FakeSlack["requests"] = [];
  const counts = new Map<string, number>();
  let lastMicros = 0;
  const nextTs = () => {
    let us = Date.now() * 1000;
    if (us <= lastMicros) us = lastMicros + 1;
    lastMicros = us;
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}`;
  };
  const channelOk = (c: unknown) =>
    typeof c === "string" && (opts.channels ? opts.channels.includes(c) : c.startsWith("C"));
  const json = (v: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json", ...headers } });
  const view = (m: SlackMsg, withMeta: boolean) => {
    const { channel: _c, metadata, ...rest } = m;
    return withMeta && metadata ? { ...rest, metadata } : rest;
  };
  const page = (list: SlackMsg[], q: URLSearchParams) => {
    const oldest = q.get("oldest");
    const inclusive = q.get("inclusive") === "true" || q.get("inclusive") === "1";
    let l = list;
    if (oldest)
      l = l.filter((m) => (inclusive ? Number(m.ts) >= Number(oldest) : Number(m.ts) > Number(oldest)));
    const limit = Math.min(Number(q.get("limit") ?? 100) || 100, 1000);
    const start = Number(q.get("cursor") ?? 0) || 0;
    const slice = l.slice(start, start + limit);
    const more = start + limit < l.length;
    return { slice, more, next: more ? String(start + limit) : "" };
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const method = url.pathname.replace(/^\/api\//, "");
      const n = (counts.get(method) ?? 0) + 1;
      counts.set(method, n);
      requests.push({ method, http: req.method, at: Date.now() });
      const fault = opts.fault?.(method, n) ?? null;
      if (fault && "delayMs" in fault) await Bun.sleep(fault.delayMs);
      if (fault && "status" in fault && fault.status === 429)
        return json({ ok: false, error: "ratelimited" }, 429, { "retry-after": String(fault.retryAfter) });
      if (fault && "status" in fault && fault.status === 500 && !fault.afterCommit)
        return new Response("internal error", { status: 500 });
      if (req.headers.get("authorization") !== `Bearer ${token}`)
        return json({ ok: false, error: req.headers.get("authorization") ? "invalid_auth" : "not_authed" });
      const q = url.searchParams;
      let answer: Response;
      switch (method) {
        case "auth.test":
          answer = json({
            ok: true,
            url: "https://fake.slack.com/",
            team: "Fake",
            user: "autosentry",
            team_id: "T1",
            user_id: bot,
            bot_id: "B1",
          });
          break;
        case "chat.postMessage": {
          const b = (await req.json()) as Record<string, unknown>;
          if (!channelOk(b.channel)) {
            answer = json({ ok: false, error: "channel_not_found" });
            break;
          }
          const threadTs = typeof b.thread_ts === "string" ? b.thread_ts : undefined;
          if (
            threadTs &&
            !messages.some((m) => m.ts === threadTs && m.channel === b.channel && !m.thread_ts)
          ) {
            answer = json({ ok: false, error: "thread_not_found" });
            break;
          }
          const m: SlackMsg = {
            type: "message",
            channel: b.channel as string,
            ts: nextTs(),
            text: String(b.text ?? ""),
            user: bot,
            bot_id: "B1",
          };
          if (threadTs) m.thread_ts = threadTs;
          if (Array.isArray(b.blocks)) m.blocks = b.blocks;
          if (b.metadata && typeof b.metadata === "object") m.metadata = b.metadata as SlackMsg["metadata"];
          messages.push(m);
          answer = json({ ok: true, channel: m.channel, ts: m.ts, message: view(m, true) });
          break;
        }
        case "conversations.replies": {
          const ts = q.get("ts") ?? "";
          const parent = messages.find((m) => m.ts === ts && m.channel === q.get("channel") && !m.thread_ts);
          if (!parent) {
            answer = json({ ok: false, error: "thread_not_found" });
            break;
          }
          const replies = messages.filter((m) => m.thread_ts === ts);
          const p = page(replies, q);
          const meta = q.get("include_all_metadata") === "true";
          // Slack returns the parent first on every page.
          answer = json({
            ok: true,
            messages: [parent, ...p.slice].map((m) => ({ ...view(m, meta), thread_ts: ts })),
            has_more: p.more,
            response_metadata: { next_cursor: p.next },
          });
          break;
        }
        case "conversations.history": {
          if (!channelOk(q.get("channel"))) {
            answer = json({ ok: false, error: "channel_not_found" });
            break;
          }
          const top = messages.filter((m) => m.channel === q.get("channel") && !m.thread_ts).reverse();
          const p = page(top, q);
          const meta = q.get("include_all_metadata") === "true";
          answer = json({
            ok: true,
            messages: p.slice.map((m) => view(m, meta)),
            has_more: p.more,
            response_metadata: { next_cursor: p.next },
          });
          break;
        }
        default:
          answer = json({ ok: false, error: "unknown_method" }, 404);
      }
      if (fault && "status" in fault && fault.status === 500)
        return new Response("internal error", { status: 500 });
      return answer;
    },
  });

  return {
    api: `http://127.0.0.1:${server.port}/api`,
    messages,
    requests,
    reply(channel, threadTs, user, text) {
      const m: SlackMsg = { type: "message", channel, ts: nextTs(), text, user, thread_ts: threadTs };
      messages.push(m);
      return m.ts;
    },
    thread(threadTs) {
      return messages.filter((m) => m.ts === threadTs || m.thread_ts === threadTs);
    },
    async close() {
      await server.stop(true);
    },
  };
}
