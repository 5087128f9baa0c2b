/**
 * @module
 * `slack_api`: a bot token and the Web API. `chat.postMessage` posts (plain-text `text` as the
 * fallback, Block Kit `blocks`, `thread_ts` for replies) and tags each message with
 * `metadata.event_payload.key`, the dispatcher's ledger key; `conversations.replies` /
 * `conversations.history` with `include_all_metadata` find a message whose delivery is in doubt,
 * and `conversations.replies` after the last seen ts reads commands. The bot's own user id comes
 * from `auth.test` (or SLACK_BOT_USER_ID), so its messages are never read back as commands.
 */
import { plainText, slackBlocks } from "../../notify/message.ts";
import { type HttpAnswer, requestJson } from "../http.ts";
import { type Backend, DeliveryError, type Outgoing, type Posted, type RepliesPage } from "../types.ts";

export interface SlackApiOptions {
  token: string;
  /** Web API base (default https://slack.com/api). */
  baseUrl?: string;
  timeoutMs?: number;
  botUserId?: string | undefined;
}

interface SlackMessage {
  ts?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  thread_ts?: string;
  subtype?: string;
  metadata?: { event_type?: string; event_payload?: { key?: string } };
}

/** Slack `error` codes worth trying again (the rest are configuration mistakes). */
const RETRYABLE = new Set([
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "ratelimited",
]);

/** Slack `error` codes that say the token, scopes or channel are wrong: no message can go out. */
const SETUP_ERRORS = new Set([
  "not_authed",
  "invalid_auth",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "no_permission",
  "missing_scope",
  "not_in_channel",
  "channel_not_found",
  "is_archived",
  "restricted_action",
  "team_access_not_granted",
  "ekm_access_denied",
]);

export const SLACK_EVENT_TYPE = "autosentry_message";

export class SlackApiBackend implements Backend {
  readonly name = "slack_api" as const;
  readonly platform = "slack" as const;
  readonly inbound = true;
  readonly threads = true;
  private readonly base: string;
  private readonly timeoutMs: number;
  private botUser: string | null;

  constructor(private readonly opts: SlackApiOptions) {
    this.base = (opts.baseUrl ?? "https://slack.com/api").replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.botUser = opts.botUserId ?? null;
  }

  private async call(method: string, body: Record<string, unknown> | null, query?: URLSearchParams) {
    const url = `${this.base}/${method}${query ? `?${query}` : ""}`;
    const init: RequestInit = body
      ? {
          method: "POST",
          headers: {
            authorization: `Bearer ${this.opts.token}`,
            "content-type": "application/json; charset=utf-8",
          },
          body: JSON.stringify(body),
        }
      : { method: "GET", headers: { authorization: `Bearer ${this.opts.token}` } };
    const res: HttpAnswer = await requestJson(url, init, {
      timeoutMs: this.timeoutMs,
      what: `slack ${method}`,
    });
    const j = res.json as { ok?: boolean; error?: string } | null;
    if (j?.ok !== true) {
      const code = j?.error ?? "no ok in answer";
      const retry = RETRYABLE.has(code);
      throw new DeliveryError(`slack ${method}: ${code}`, retry, retry, undefined, SETUP_ERRORS.has(code));
    }
    return j as Record<string, unknown>;
  }

  async post(m: Outgoing): Promise<Posted> {
    if (!m.channel)
      throw new DeliveryError(
        "slack chat.postMessage: no channel (set --channel or the notifier's channel)",
        false,
        false,
        undefined,
        true,
      );
    const body: Record<string, unknown> = {
      channel: m.channel,
      text: plainText(m.message),
      blocks: slackBlocks(m.message),
      unfurl_links: false,
      metadata: { event_type: SLACK_EVENT_TYPE, event_payload: { key: m.key } },
    };
    if (m.thread) body.thread_ts = m.thread;
    const j = await this.call("chat.postMessage", body);
    const ts = typeof j.ts === "string" ? j.ts : "";
    if (!ts) throw new DeliveryError("slack chat.postMessage: answer has no ts", true, true);
    return { id: ts, thread: m.thread ?? ts };
  }

  async find(m: Outgoing): Promise<Posted | null> {
    if (!m.channel) return null;
    const oldest = ((m.firstAttemptAt - 60_000) / 1000).toFixed(6);
    for (const msg of await this.list(m.channel, m.thread, oldest, true)) {
      if (msg.metadata?.event_payload?.key === m.key && msg.ts)
        return { id: msg.ts, thread: m.thread ?? msg.ts };
    }
    return null;
  }

  /** Messages of a thread (or the channel when `thread` is null) after `oldest`, all pages. */
  private async list(channel: string, thread: string | null, oldest: string | null, metadata: boolean) {
    const out: SlackMessage[] = [];
    let cursor = "";
    for (let page = 0; page < 50; page++) {
      const q = new URLSearchParams({ channel, limit: "200" });
      if (thread) q.set("ts", thread);
      if (oldest) {
        q.set("oldest", oldest);
        q.set("inclusive", "false");
      }
      if (metadata) q.set("include_all_metadata", "true");
      if (cursor) q.set("cursor", cursor);
      const j = await this.call(thread ? "conversations.replies" : "conversations.history", null, q);
      out.push(...((j.messages as SlackMessage[] | undefined) ?? []));
      const next = (j.response_metadata as { next_cursor?: string } | undefined)?.next_cursor ?? "";
      if (j.has_more !== true || !next) break;
      cursor = next;
    }
    return out;
  }

  private async botUserId(): Promise<string | null> {
    if (this.botUser === null) {
      const j = await this.call("auth.test", {});
      this.botUser = typeof j.user_id === "string" ? j.user_id : "";
    }
    return this.botUser || null;
  }

  async replies(channel: string | null, thread: string, after: string | null): Promise<RepliesPage> {
    if (!channel) return { replies: [], last: after };
    const bot = await this.botUserId();
    // The parent comes back on every page; everything else is after `after` (or the parent).
    const msgs = (await this.list(channel, thread, after ?? thread, false)).filter(
      (x) => x.ts && x.ts !== thread && Number(x.ts) > Number(after ?? thread),
    );
    let last = after;
    for (const x of msgs) if (last === null || Number(x.ts) > Number(last)) last = x.ts as string;
    const replies = msgs
      // Only plain messages by people: no joins, edits-as-events or bot posts.
      .filter(
        (x) =>
          (!x.subtype || x.subtype === "thread_broadcast") &&
          !x.bot_id &&
          x.user &&
          x.user !== bot &&
          x.text?.trim(),
      )
      .sort((a, b) => Number(a.ts) - Number(b.ts))
      .map((x) => ({ id: x.ts as string, user: x.user as string, text: x.text as string }));
    return { replies, last };
  }
}
