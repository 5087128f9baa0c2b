/**
 * @module
 * The dispatcher: delivers an outbox (append-only JSON Lines written by the monitor's
 * slack_outbox/discord_outbox notifier) to a chat backend, one thread per thread_key, and turns
 * replies in those threads into control records for the monitor.
 *
 * Delivery state lives in the ledger (ledger.ts), never in the outbox. Per message: `intent` is
 * recorded before the request, `sent` (with the thread it opened, in the same line) after it. A
 * message whose last attempt may have reached the service (a crash after `intent`, a timeout, a
 * 5xx) is looked up on the service (`Backend.find`, by the key every message carries) before it
 * is posted again. Messages of one thread_key go out in outbox order: a message waits while an
 * earlier one of its thread is still undelivered. Failures are retried with exponential backoff
 * on their own schedule (not when the outbox next changes); a 429 waits what Retry-After says.
 * The full argument is in docs/dispatcher.md.
 */

import { type RenderedMessage, renderMessage } from "../notify/message.ts";
import type { OutboxLine } from "../notify/outbox.ts";
import { type ChatCommand, COMMAND_HELP, parseCommand } from "./commands.ts";
import { type ControlSink, writeChatControl } from "./control-sink.ts";
import {
  type AckMessage,
  compareIds,
  type Ledger,
  type OutboxSegment,
  offsetOfKey,
  segmentAt,
} from "./ledger.ts";
import { lineAt, readOutboxStream } from "./outbox-reader.ts";
import { takeRetryRequests } from "./retry-requests.ts";
import {
  type Backend,
  DeliveryError,
  type Outgoing,
  type Posted,
  type RepliesPage,
  type Reply,
} from "./types.ts";

export type DispatchLogLevel = "INFO" | "WARN" | "ERROR";

export interface DispatcherOptions {
  backend: Backend;
  ledger: Ledger;
  outboxPath: string;
  /** Channel for lines that name none (`--channel`, else the notifier's). */
  defaultChannel: string | null;
  /** Where inbound commands go (the monitor's control inbox) and how status is answered. */
  control: ControlSink;
  /** Chat user ids allowed to command (bare or `slack:`/`discord:`-prefixed); empty = anyone. */
  allowedUsers: readonly string[];
  publicUrl?: string | undefined;
  log: (level: DispatchLogLevel, message: string) => void;
  /** Applied to every text the dispatcher itself writes into a thread (status answers). */
  redact?: (text: string) => string;
  now?: () => number;
  /** First retry delay (default 2 s), doubled per failure up to `backoffMaxMs` (default 5 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** An error of this message (a 4xx other than 401/403/404/429) is retried this many times before it is given up (default 5). */
  maxPermanentFailures?: number;
  /** Messages posted at most per tick (default 500), so replies are read between bursts. */
  batch?: number;
  /** The request file of `dispatcher retry` (retry-requests.ts), read every tick. */
  retryRequests?: string;
}

interface Item {
  key: string;
  /** Outbox offset, or -1 for an ack. */
  off: number;
  threadKey: string | null;
  channel: string | null;
  message: RenderedMessage;
}

export interface TickResult {
  delivered: number;
  failed: number;
  /** Messages known and not yet delivered (nor given up). */
  pending: number;
  commands: number;
}

/** Outbox line → the message to post. */
export function messageOfLine(line: OutboxLine, publicUrl?: string): RenderedMessage {
  const m = renderMessage(
    {
      kind: line.kind ?? "milestone",
      title: String(line.title ?? ""),
      body: String(line.body ?? ""),
      incident_id: line.incident_id ?? null,
      detail: line.facts ?? undefined,
    },
    { publicUrl },
  );
  if (!m.url && typeof line.url === "string") m.url = line.url;
  return m;
}

export class Dispatcher {
  private readonly queue: Item[] = [];
  private readPos: number;
  /** The outbox file `readPos` is in (see outbox-reader.ts readOutboxStream). */
  private readSeg: OutboxSegment;
  private readonly now: () => number;
  private readonly platform: string;

  constructor(private readonly o: DispatcherOptions) {
    this.now = o.now ?? Date.now;
    this.platform = o.backend.platform ?? "chat";
    const s = o.ledger.state;
    this.readPos = s.cursor;
    this.readSeg = segmentAt(s, s.cursor);
    // Acks made before a restart and not yet delivered go first: they answer older replies.
    for (const a of s.acks.values()) this.queue.push(this.ackItem(a));
    // A restart retries at once: whatever made the last attempt fail may have been fixed.
    for (const a of s.attempts.values()) a.next = 0;
  }

  private ackItem(a: AckMessage): Item {
    return {
      key: a.k,
      off: -1,
      threadKey: a.tk,
      channel: a.ch,
      message: { summary: a.text, detail: [], url: null, kind: "milestone", incident_id: null },
    };
  }

  /** Messages waiting (not delivered, not given up). */
  get pending(): number {
    return this.queue.length;
  }

  /** One pass: read new outbox lines, deliver what is due, read replies. */
  async tick(opts: { inbound?: boolean } = {}): Promise<TickResult> {
    this.readNew();
    this.takeRetries();
    const r = await this.deliverDue();
    let commands = 0;
    if (opts.inbound !== false && this.o.backend.inbound) commands = await this.readReplies();
    this.advanceCursor();
    this.o.ledger.compact();
    return { ...r, pending: this.queue.length, commands };
  }

  private readNew(): void {
    const ledger = this.o.ledger;
    for (;;) {
      // Follows the outbox across its rotations (outbox-reader.ts): positions never repeat.
      const res = readOutboxStream(this.o.outboxPath, this.readSeg, this.readPos);
      for (const seg of res.entered) ledger.segment(seg);
      this.readSeg = res.seg;
      // Never re-send what was delivered: a shrunk file goes on from where it now ends.
      if (res.lost !== null) this.o.log("ERROR", `outbox ${res.lost}`);
      for (const off of res.bad)
        this.o.log("WARN", `outbox ${this.o.outboxPath}: line at position ${off} is not JSON; skipped`);
      for (const e of res.entries) {
        const key = `o${e.off}`;
        if (ledger.state.done.has(key)) continue;
        this.queue.push(this.outboxItem(key, e.off, e.line));
      }
      const more = res.next > this.readPos && res.entries.length + res.bad.length > 0;
      this.readPos = res.next;
      if (!more || this.queue.length > 50_000) return;
    }
  }

  private outboxItem(key: string, off: number, line: OutboxLine): Item {
    return {
      key,
      off,
      threadKey: typeof line.thread_key === "string" && line.thread_key ? line.thread_key : null,
      channel: line.channel ?? this.o.defaultChannel,
      message: messageOfLine(line, this.o.publicUrl),
    };
  }

  /**
   * Given-up messages asked for again (`dispatcher retry` writes the request file; the ledger's
   * `retry` records survive a restart): their lines are read again and queued. They go after
   * what is queued for their thread (a re-send, not a reordering of the thread).
   */
  private takeRetries(): void {
    const ledger = this.o.ledger;
    if (this.o.retryRequests) {
      for (const k of takeRetryRequests(this.o.retryRequests)) {
        if (ledger.retry(k))
          this.o.log("INFO", `${k}: given up before; delivering it again (dispatcher retry)`);
      }
    }
    const st = ledger.state;
    if (st.retry.size === 0) return;
    const queued = new Set(this.queue.map((i) => i.key));
    for (const k of [...st.retry]) {
      if (queued.has(k)) continue;
      const off = offsetOfKey(k);
      const line = Number.isNaN(off) ? null : lineAt(this.o.outboxPath, [...st.segs, st.seg], off);
      if (line === null) {
        this.o.log(
          "ERROR",
          `${k}: cannot deliver it again: its line is no longer in the outbox (rotated away)`,
        );
        ledger.fail(k, 0, "no longer in the outbox (rotated away)", false, 0, true);
        continue;
      }
      this.queue.push(this.outboxItem(k, off, line));
    }
  }

  private laneOf(i: Item): string {
    return `${i.channel ?? ""}\u0000${i.threadKey ?? ""}`;
  }

  private async deliverDue(): Promise<{ delivered: number; failed: number }> {
    let delivered = 0;
    let failed = 0;
    const budget = this.o.batch ?? 500;
    // Lanes (one per channel + thread_key) are independent: deliver each lane's messages in
    // order, lanes side by side, stopping a lane at its first message that is not done.
    const lanes = new Map<string, Item[]>();
    for (const i of this.queue) {
      const l = lanes.get(this.laneOf(i));
      if (l) l.push(i);
      else lanes.set(this.laneOf(i), [i]);
    }
    let left = budget;
    await Promise.all(
      [...lanes.values()].map(async (items) => {
        for (const item of items) {
          if (left <= 0) return;
          left--;
          const r = await this.deliverOne(item);
          if (r === "sent") delivered++;
          else {
            if (r === "failed") failed++;
            return; // keep the order of this lane
          }
        }
      }),
    );
    const done = this.o.ledger.state.done;
    for (let i = this.queue.length - 1; i >= 0; i--)
      if (done.has(this.queue[i]!.key)) this.queue.splice(i, 1);
    return { delivered, failed };
  }

  /** Deliver one message: "sent", "failed" (recorded, retried later), or "waiting" (not due yet). */
  private async deliverOne(item: Item): Promise<"sent" | "failed" | "waiting"> {
    const { ledger, backend } = this.o;
    const st = ledger.state;
    if (st.done.has(item.key)) return "sent";
    const attempt = st.attempts.get(item.key);
    const now = this.now();
    if (attempt && attempt.next > now) return "waiting";
    const thread = item.threadKey ? st.threads.get(item.threadKey) : undefined;
    const opensThread = item.threadKey !== null && backend.threads && thread === undefined;
    const out: Outgoing = {
      key: item.key,
      channel: item.channel,
      thread: thread?.ref ?? null,
      message: item.message,
      firstAttemptAt: attempt?.firstAt || now,
    };
    try {
      if (thread && !thread.ready && backend.ensureThread) {
        await backend.ensureThread(thread.channel, thread.ref);
        ledger.threadOk(item.threadKey as string);
      }
      let posted: Posted | null = null;
      if (attempt?.inDoubt && backend.find) {
        posted = await backend.find(out);
        if (posted)
          this.o.log("INFO", `${item.key}: already delivered before (found ${posted.id}); not sending again`);
      }
      if (!posted) {
        ledger.intent(item.key, out.firstAttemptAt);
        posted = await backend.post(out, opensThread);
      }
      this.recordSent(item, posted, opensThread);
      if (opensThread && backend.ensureThread && posted.thread) {
        // Start the thread now, so replies can come in; if this fails the next message retries it.
        try {
          await backend.ensureThread(item.channel, posted.thread);
          ledger.threadOk(item.threadKey as string);
        } catch (err) {
          this.o.log("WARN", `cannot start the thread for ${item.threadKey}: ${(err as Error).message}`);
        }
      }
      return "sent";
    } catch (err) {
      const e =
        err instanceof DeliveryError
          ? err
          : new DeliveryError((err as Error).message ?? String(err), true, true);
      this.recordFailure(item, e, attempt?.n ?? 0);
      return "failed";
    }
  }

  private recordSent(item: Item, posted: Posted, opensThread: boolean): void {
    const opened =
      opensThread && posted.thread && item.threadKey
        ? {
            tk: item.threadKey,
            th: posted.thread,
            ch: item.channel,
            // Slack threads exist as soon as their parent does; Discord's must be started.
            ready: !this.o.backend.ensureThread,
          }
        : undefined;
    this.o.ledger.sent(item.key, posted.id, opened);
  }

  private recordFailure(item: Item, e: DeliveryError, before: number): void {
    const n = before + 1;
    const base = this.o.backoffBaseMs ?? 2000;
    const max = this.o.backoffMaxMs ?? 300_000;
    // A setup problem (token, channel, permissions) fails every message alike: never give one up
    // for it, retry at the slowest pace until someone fixes the setup (or restarts the dispatcher).
    const delay = e.setup ? max : (e.retryAfterMs ?? Math.min(base * 2 ** Math.min(n - 1, 20), max));
    const dead = !e.retryable && !e.setup && n >= (this.o.maxPermanentFailures ?? 5);
    this.o.ledger.fail(item.key, n, e.message, e.ambiguous, this.now() + delay, dead);
    const what = `${item.key} [${item.message.kind}] ${item.message.summary.slice(0, 80)}`;
    if (dead) this.o.log("ERROR", `gave up on ${what} after ${n} attempts: ${e.message}`);
    else if (e.setup)
      this.o.log(
        "ERROR",
        `${what}: ${e.message} — fix the token, channel or permissions; retrying every ${Math.round(delay / 1000)} s`,
      );
    else
      this.o.log(
        n === 1 || n % 10 === 0 ? "WARN" : "INFO",
        `${what}: attempt ${n} failed (${e.message}); next in ${Math.round(delay / 1000)} s`,
      );
  }

  /** Outbox lines before the first undelivered one are done: move the ledger's cursor there. */
  private advanceCursor(): void {
    let min = this.readPos;
    for (const i of this.queue) if (i.off >= 0 && i.off < min) min = i.off;
    this.o.ledger.cursor(min);
  }

  // ---------------------------------------------------------------------------------------------
  // inbound

  private async readReplies(): Promise<number> {
    const { backend, ledger } = this.o;
    if (!backend.replies) return 0;
    let handled = 0;
    for (const [tk, th] of [...ledger.state.threads]) {
      if (!th.ready) continue;
      let page: RepliesPage;
      const before = ledger.state.seen.get(tk) ?? null;
      try {
        page = await backend.replies(th.channel, th.ref, before);
      } catch (err) {
        this.o.log("WARN", `cannot read replies in thread ${tk}: ${(err as Error).message}`);
        continue;
      }
      for (const r of page.replies) {
        this.handleReply(tk, th.channel, r);
        ledger.seen(tk, r.id);
        handled++;
      }
      // Past the bot's own messages too, so the next poll lists only what is new.
      const seen = ledger.state.seen.get(tk) ?? null;
      if (page.last !== null && (seen === null || compareIds(page.last, seen) > 0))
        ledger.seen(tk, page.last);
    }
    return handled;
  }

  private allowed(user: string): boolean {
    const list = this.o.allowedUsers;
    if (list.length === 0) return true;
    return list.includes(user) || list.includes(`${this.platform}:${user}`);
  }

  /** One reply: a command goes to the monitor (once), and gets an answer in the thread (once). */
  private handleReply(tk: string, channel: string | null, r: Reply): void {
    const parsed = parseCommand(r.text);
    if (parsed === null) return;
    const who = `${this.platform}:${r.user}`;
    const ack = (text: string) => {
      const a: AckMessage = { k: `ack:${tk}|${r.id}`, tk, ch: channel, text, reply: r.id };
      this.o.ledger.ack(a);
      if (!this.queue.some((i) => i.key === a.k) && !this.o.ledger.state.done.has(a.k))
        this.queue.push(this.ackItem(a));
    };
    if (!this.allowed(r.user)) {
      this.o.log(
        "WARN",
        `ignored a command from ${who} (not in dispatch.allowed_users): ${r.text.slice(0, 120)}`,
      );
      this.o.control.journal("chat_command_ignored", {
        user: who,
        thread_key: tk,
        text: r.text.slice(0, 500),
      });
      ack(`ignored: ${who} is not allowed to command this run (dispatch.allowed_users)`);
      return;
    }
    if (!parsed.ok) {
      ack(`not understood: ${parsed.error}\n${COMMAND_HELP}`);
      return;
    }
    const c = parsed.command;
    writeChatControl(this.o.control, {
      id: `${this.platform}:${channel ?? "-"}:${r.id}`,
      command: c,
      user: who,
      threadKey: tk,
      channel,
      messageId: r.id,
    });
    this.o.log("INFO", `${c.verb} from ${who} in thread ${tk}: sent to the monitor`);
    const redact = this.o.redact ?? ((t: string) => t);
    ack(redact(this.answer(c, who)));
  }

  private answer(c: ChatCommand, who: string): string {
    const running = this.o.control.monitorAlive();
    const later = running ? "" : " (no monitor is running: it applies when one starts)";
    switch (c.verb) {
      case "status":
        return this.o.control.statusText();
      case "pause":
        return `⏸ pause from ${who}: the child is being stopped and stays stopped until \`resume\`${later}`;
      case "resume":
        return `▶️ resume from ${who}: the child is being started${later}`;
      case "abort":
        return `⏹ abort from ${who}: the child and the monitor are stopping${later}`;
      case "approve":
        return `✅ approve from ${who}: healing resumes for ${c.text ?? "every detector"}${later}`;
      case "set":
        return c.args[0] === "max_restarts"
          ? `⚙️ set max_restarts ${c.args[1]} from ${who}: applies now${later}`
          : `⚙️ set env ${c.args[1]} from ${who}: applies at the next restart (recorded as an override)${later}`;
      case "note":
        return `📝 note from ${who} recorded in the journal and the current incident${later}`;
    }
  }
}
