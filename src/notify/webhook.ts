/**
 * @module
 * The `webhook` notifier: POST `application/json` (payload.ts: the Python tool's
 * `{kind, title, body, incident_id}` plus `time, host, project, summary, detail, url, facts`) with
 * the configured headers. With a shared secret (`secret_env`) every body is signed:
 * `<signature_header>: sha256=<hex HMAC-SHA256 of the exact body bytes>` (GitHub's scheme, so
 * receivers can reuse their verification code); the body carries `time` so a receiver can refuse
 * replays. A secret variable that is unset withholds the notification (and says so) rather than
 * sending it unsigned to a receiver that would reject it anyway.
 *
 * Unlike the Python tool (one attempt, inline, 10 s of blocking per call), `notify` only queues:
 * a bounded in-memory queue is drained in the background one request at a time (so notifications
 * arrive in order), each request has its own timeout, and network errors, 5xx, 408 and 429 are
 * retried with exponential backoff (a `Retry-After` header, in seconds or as a date, wins). A
 * notification that still fails is logged once, not once per attempt. Logs name only the URL's
 * origin: webhook URLs often carry their secret in the path.
 */
import { createHmac } from "node:crypto";
import * as os from "node:os";
import type { Notification } from "../core/types.ts";
import type { Logger } from "../util/logger.ts";
import { type NotificationPayload, notificationPayload } from "./payload.ts";
import type { Notifier } from "./types.ts";

/** The request body. */
export type WebhookPayload = NotificationPayload;

/** `sha256=<hex>`: HMAC-SHA256 of `body` with `secret`. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface WebhookNotifierOptions {
  url: string;
  headers?: Record<string, string>;
  /** Per-request timeout (default 10 000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  logger: Logger;
  /** Project name put in every payload. */
  project: string;
  /** Host name put in every payload (default: os.hostname()). */
  host?: string;
  /** Notifications waiting at most; when full the oldest is dropped (default 100). */
  queueLimit?: number;
  /** First backoff delay (default 1000), doubled per retry up to `backoffMaxMs` (default 30 000). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Upper bound for a server's Retry-After (default 120 000). */
  retryAfterMaxMs?: number;
  /** How waiting is done; must resolve early when `signal` aborts (tests record the delays). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Clock, epoch ms. */
  now?: () => number;
  /** Notifier name in logs (default `webhook`). */
  name?: string;
  /** Environment variable holding the HMAC secret (read at each send, so a rotated secret applies). */
  secretEnv?: string | undefined;
  /** Header carrying the signature (default `X-Autosentry-Signature`). */
  signatureHeader?: string | undefined;
  /** `web.public_url`, for the incident link in the payload. */
  publicUrl?: string | undefined;
  /** Environment the secret is read from (default process.env). */
  env?: Record<string, string | undefined>;
}

interface Pending {
  payload: WebhookPayload;
  label: string;
}

type Attempt = { ok: true } | { ok: false; retry: boolean; reason: string; retryAfterMs?: number };

/** A wait that ends early when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Milliseconds a `Retry-After` value asks for (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid url)";
  }
}

export class WebhookNotifier implements Notifier {
  readonly name: string;
  private readonly queue: Pending[] = [];
  private inFlight: Pending | null = null;
  private draining: Promise<void> | null = null;
  private closed = false;
  /** Aborted when close() gives up: ends the request and the backoff wait in progress. */
  private readonly stop = new AbortController();
  private readonly where: string;
  private readonly host: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly queueLimit: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly retryAfterMaxMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly opts: WebhookNotifierOptions) {
    this.name = opts.name ?? "webhook";
    this.where = `${this.name} ${originOf(opts.url)}`;
    this.host = opts.host ?? os.hostname();
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = Math.max(0, opts.retries ?? 3);
    this.queueLimit = Math.max(1, opts.queueLimit ?? 100);
    this.backoffBaseMs = opts.backoffBaseMs ?? 1000;
    this.backoffMaxMs = opts.backoffMaxMs ?? 30_000;
    this.retryAfterMaxMs = opts.retryAfterMaxMs ?? 120_000;
    this.sleep = opts.sleep ?? abortableSleep;
    this.now = opts.now ?? Date.now;
  }

  /** Notifications queued or being delivered. */
  get pending(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  notify(n: Notification): void {
    try {
      const label = `[${n.kind}] ${n.title}`;
      if (this.closed) {
        this.log("WARN", `${this.where}: closed, not sending ${label}`);
        return;
      }
      if (this.queue.length >= this.queueLimit) {
        const old = this.queue.shift()!;
        this.log("WARN", `${this.where}: queue full (${this.queueLimit}), dropped ${old.label}`);
      }
      this.queue.push({
        label,
        payload: notificationPayload(n, {
          project: this.opts.project,
          host: this.host,
          publicUrl: this.opts.publicUrl,
          now: this.now,
        }),
      });
      if (this.draining === null) {
        this.draining = this.drain().finally(() => {
          this.draining = null;
        });
      }
    } catch {
      // The seam promises notify never throws.
    }
  }

  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    const draining = this.draining;
    if (draining === null) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      draining.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    const left = this.pending;
    this.queue.length = 0;
    this.inFlight = null;
    this.stop.abort();
    if (left > 0) this.log("WARN", `${this.where}: gave up on ${left} undelivered notification(s) at exit`);
  }

  private async drain(): Promise<void> {
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
      this.inFlight = item;
      try {
        await this.deliver(item);
      } finally {
        this.inFlight = null;
      }
      if (this.stop.signal.aborted) return;
    }
  }

  private async deliver(item: Pending): Promise<void> {
    const body = JSON.stringify(item.payload);
    const headers: Record<string, string> = {};
    if (this.opts.secretEnv) {
      const secret = (this.opts.env ?? process.env)[this.opts.secretEnv];
      if (!secret) {
        this.log(
          "ERROR",
          `${this.where}: not sending ${item.label}: the signing secret variable ${this.opts.secretEnv} is not set`,
        );
        return;
      }
      headers[this.opts.signatureHeader ?? "X-Autosentry-Signature"] = signBody(secret, body);
    }
    for (let attempt = 0; ; attempt++) {
      const res = await this.post(body, headers);
      if (res.ok || this.stop.signal.aborted) return;
      if (!res.retry || attempt >= this.retries) {
        const tries = attempt + 1;
        this.log(
          "ERROR",
          `${this.where}: could not deliver ${item.label}: ${res.reason} (${tries} attempt${tries === 1 ? "" : "s"})`,
        );
        return;
      }
      const backoff = Math.min(this.backoffBaseMs * 2 ** attempt, this.backoffMaxMs);
      const delay =
        res.retryAfterMs !== undefined ? Math.min(res.retryAfterMs, this.retryAfterMaxMs) : backoff;
      await this.sleep(delay, this.stop.signal);
      if (this.stop.signal.aborted) return;
    }
  }

  private async post(body: string, signed: Record<string, string>): Promise<Attempt> {
    try {
      const res = await fetch(this.opts.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...this.opts.headers, ...signed },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stop.signal]),
      });
      try {
        await res.body?.cancel();
      } catch {}
      if (res.ok) return { ok: true };
      const retry = res.status >= 500 || res.status === 429 || res.status === 408;
      const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), this.now());
      return retryAfterMs !== undefined
        ? { ok: false, retry, reason: `HTTP ${res.status}`, retryAfterMs }
        : { ok: false, retry, reason: `HTTP ${res.status}` };
    } catch (err) {
      const e = err as Error;
      const reason =
        e.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : e.message || e.name;
      return { ok: false, retry: true, reason };
    }
  }

  private log(level: "WARN" | "ERROR", message: string): void {
    try {
      this.opts.logger.log(level, message);
    } catch {}
  }
}
