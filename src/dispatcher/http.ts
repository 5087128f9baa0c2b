/**
 * @module
 * JSON over HTTP for the chat backends: a per-request timeout, and every failure turned into a
 * {@link DeliveryError} that says whether to retry, whether the service may have acted anyway,
 * and how long the service asked us to wait (429 Retry-After, seconds or an HTTP date).
 */
import { parseRetryAfter } from "../notify/webhook.ts";
import { DeliveryError } from "./types.ts";

export interface HttpOptions {
  timeoutMs: number;
  /** Where messages name the service (`slack chat.postMessage`). */
  what: string;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

/** Send a request; resolve with a 2xx answer, throw DeliveryError otherwise. */
export async function requestJson(url: string, init: RequestInit, opts: HttpOptions): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(opts.timeoutMs) });
  } catch (err) {
    const e = err as Error;
    const reason = e.name === "TimeoutError" ? `no answer within ${opts.timeoutMs} ms` : e.message || e.name;
    // The request may have reached the service before the connection failed.
    throw new DeliveryError(`${opts.what}: ${reason}`, true, true);
  }
  let text = "";
  try {
    text = await res.text();
  } catch (err) {
    throw new DeliveryError(`${opts.what}: answer cut off: ${(err as Error).message}`, true, true);
  }
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.status === 429) {
    const body = json as { retry_after?: number } | null;
    const header = parseRetryAfter(res.headers.get("retry-after"), Date.now());
    // Discord also says it in the body, in seconds with a fraction.
    const ms = header ?? (typeof body?.retry_after === "number" ? Math.ceil(body.retry_after * 1000) : 1000);
    throw new DeliveryError(`${opts.what}: rate limited (HTTP 429, retry after ${ms} ms)`, true, false, ms);
  }
  if (res.status >= 500 || res.status === 408) {
    throw new DeliveryError(`${opts.what}: HTTP ${res.status} ${text.slice(0, 200)}`.trim(), true, true);
  }
  if (res.status < 200 || res.status >= 300) {
    // 401/403/404: the token, the permissions or the channel/webhook: the setup, not the message.
    const setup = res.status === 401 || res.status === 403 || res.status === 404;
    throw new DeliveryError(
      `${opts.what}: HTTP ${res.status} ${text.slice(0, 200)}`.trim(),
      false,
      false,
      undefined,
      setup,
    );
  }
  return { status: res.status, headers: res.headers, json };
}
