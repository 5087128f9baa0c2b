/**
 * @module
 * One JSON POST to a model API, shared by the Messages API client and the OpenAI-compatible one:
 * a per-request timeout, the caller's abort signal, one retry of a 5xx or network failure, and
 * the failure classified (auth, quota, api_error, timeout, aborted) for the healer.
 */
import { type AgentFailure, classifyApiFailure } from "./failure.ts";

export class HttpFailure extends Error {
  constructor(readonly failure: AgentFailure) {
    super(failure.message);
  }
}

/** Where a request goes: the URL, the headers that authenticate it, and the API's name for messages. */
export interface PostTarget {
  url: string;
  headers: Record<string, string>;
  label: string;
}

/** What limits a request: the caller's abort signal, the per-request timeout, retries. */
export interface PostLimits {
  requestTimeoutMs: number;
  /** Retries of a 5xx (not 529) or network failure. Default 1. */
  retries?: number;
  signal?: AbortSignal;
}

/** One JSON POST, with retries for 5xx and network errors; throws {@link HttpFailure}. */
export async function postJson<T>(
  target: PostTarget,
  body: unknown,
  opts: PostLimits,
  count: () => void,
): Promise<T> {
  const { url, label } = target;
  const retries = opts.retries ?? 1;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new HttpFailure({ kind: "aborted", message: "API agent aborted" });
    const timeout = AbortSignal.timeout(opts.requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    count();
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...target.headers },
        body: JSON.stringify(body),
        signal,
      });
    } catch (e) {
      if (opts.signal?.aborted) throw new HttpFailure({ kind: "aborted", message: "API agent aborted" });
      if (timeout.aborted) {
        throw new HttpFailure({
          kind: "timeout",
          message: `${label} did not answer within ${Math.round(opts.requestTimeoutMs / 1000)} s`,
        });
      }
      if (attempt < retries) continue;
      throw new HttpFailure({
        kind: "api_error",
        message: `Cannot reach the ${label} at ${url}: ${(e as Error).message}`,
      });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      if (timeout.aborted) {
        throw new HttpFailure({ kind: "timeout", message: `${label} response did not complete in time` });
      }
      throw new HttpFailure({
        kind: "api_error",
        message: `${label} response broke off: ${(e as Error).message}`,
      });
    }
    if (res.ok) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new HttpFailure({
          kind: "api_error",
          message: `${label} sent something that is not JSON: ${text.slice(0, 200)}`,
        });
      }
    }
    let detail = text.slice(0, 300);
    try {
      const j = JSON.parse(text) as { error?: { type?: string; message?: string } };
      if (j.error) detail = `${j.error.type ?? "error"}: ${j.error.message ?? ""}`;
    } catch {}
    const kind = classifyApiFailure(res.status, detail);
    if (kind === "api_error" && res.status >= 500 && attempt < retries) continue;
    throw new HttpFailure({ kind, message: `${label} ${res.status}: ${detail}`, status: res.status });
  }
}
