/**
 * @module
 * The Backend seam of the dispatcher: one chat service (or stdout) that can post a message,
 * optionally into a thread, find a message it may already have posted (so an in-doubt delivery is
 * not repeated), and read the replies in a thread (inbound commands).
 */
import type { RenderedMessage } from "../notify/message.ts";

export type BackendName = "stdout" | "slack_webhook" | "slack_api" | "discord_webhook" | "discord_bot";

/** One message to post. */
export interface Outgoing {
  /** Ledger key (`o<outbox offset>` or `ack:<reply id>`): put in the message so it can be found again. */
  key: string;
  channel: string | null;
  /** The thread's reference (Slack thread_ts, Discord thread channel id); null = top level. */
  thread: string | null;
  message: RenderedMessage;
  /** When this message was first attempted (epoch ms); lets `find` look only at recent messages. */
  firstAttemptAt: number;
}

export interface Posted {
  /** The message's id (Slack ts, Discord message id; `-` where the service returns none). */
  id: string;
  /** When the message opened a thread: the reference later messages of its thread_key use. */
  thread: string | null;
}

/** A reply in a thread, oldest first. */
export interface Reply {
  /** Service message id (Slack ts, Discord snowflake); also the inbound cursor. */
  id: string;
  user: string;
  text: string;
}

export interface RepliesPage {
  replies: Reply[];
  last: string | null;
}

export interface Backend {
  readonly name: BackendName;
  /** `slack` or `discord` (the outbox it reads); stdout reads whichever is configured. */
  readonly platform: "slack" | "discord" | null;
  /** Can read replies (and so take commands). */
  readonly inbound: boolean;
  /** Can open a thread under a message. */
  readonly threads: boolean;
  /** Post; `opensThread` when this message is the first of its thread_key. Throws {@link DeliveryError}. */
  post(m: Outgoing, opensThread: boolean): Promise<Posted>;
  /** Make sure the thread under parent message `thread` exists (Discord); idempotent. */
  ensureThread?(channel: string | null, thread: string): Promise<void>;
  /** The message with key `m.key` if the service already has it (after a crash or a lost answer). */
  find?(m: Outgoing): Promise<Posted | null>;
  /**
   * Replies in `thread` after message id `after` (exclusive), oldest first, not the bot's own;
   * `last` is the newest message id seen in the thread (bots' included), the next call's `after`,
   * so a long thread is not listed again on every poll.
   */
  replies?(channel: string | null, thread: string, after: string | null): Promise<RepliesPage>;
}

/**
 * A failed delivery. `retryable`: try again later (network, 5xx, 429); `ambiguous`: the service
 * may have acted anyway (timeout, connection lost, 5xx), so look before posting again;
 * `retryAfterMs`: the service said when (429 Retry-After); `setup`: see below.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly ambiguous: boolean,
    readonly retryAfterMs?: number,
    /**
     * The setup is wrong (credentials, channel, permissions), not this message: every message
     * would fail the same way, so none is given up; it is retried at the slowest pace until fixed.
     */
    readonly setup = false,
  ) {
    super(message);
    this.name = "DeliveryError";
  }
}
