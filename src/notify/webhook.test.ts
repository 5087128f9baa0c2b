import { afterEach, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { Notification } from "../core/types.ts";
import { MemoryLogger } from "../util/logger.ts";
import { parseRetryAfter, signBody, WebhookNotifier, type WebhookNotifierOptions } from "./webhook.ts";

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  /** The body's bytes as sent (what a signature covers). */
  raw: string;
}

type Handler = (req: Request, n: number) => Response | Promise<Response>;

const servers: { stop: (force?: boolean) => unknown }[] = [];
/** Resolvers of requests that a test left hanging, released after the test. */
const hanging: (() => void)[] = [];

afterEach(() => {
  for (const release of hanging.splice(0)) release();
  for (const s of servers.splice(0)) s.stop(true);
});

/** A real HTTP server on 127.0.0.1 that records every request and answers with `handler`. */
function serve(handler: Handler) {
  const seen: Seen[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const raw = await req.text();
      seen.push({
        method: req.method,
        path: url.pathname,
        headers: Object.fromEntries(req.headers),
        body: JSON.parse(raw),
        raw,
      });
      return handler(req, seen.length);
    },
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.port}/hooks/s3cret-token`, seen };
}

/** A response that never comes until the test ends. */
function hang(): Promise<Response> {
  return new Promise((resolve) => hanging.push(() => resolve(new Response("late"))));
}

const note = (over: Partial<Notification> = {}): Notification => ({
  kind: "anomaly",
  title: "[oom] CUDA out of memory",
  body: "restarting with BATCH_SIZE=16",
  incident_id: "2026-01-01T00-00-00Z-error-oom",
  ...over,
});

function notifier(url: string, logger: MemoryLogger, over: Partial<WebhookNotifierOptions> = {}) {
  return new WebhookNotifier({
    url,
    logger,
    project: "demo",
    host: "box1",
    backoffBaseMs: 1,
    backoffMaxMs: 4,
    now: () => Date.UTC(2026, 0, 1),
    ...over,
  });
}

describe("WebhookNotifier", () => {
  test("POSTs the JSON payload with the configured headers", async () => {
    const { url, seen } = serve(() => new Response("ok"));
    const logger = new MemoryLogger();
    const w = notifier(url, logger, { headers: { "X-Token": "abc", "X-Other": "1" } });
    w.notify(note());
    w.notify(note({ kind: "exit", title: "done", body: "", incident_id: null }));
    await w.close(10_000);
    expect(seen.length).toBe(2);
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.path).toBe("/hooks/s3cret-token");
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
    expect(seen[0]!.headers["x-token"]).toBe("abc");
    expect(seen[0]!.headers["x-other"]).toBe("1");
    expect(seen.map((s) => s.body)).toEqual([
      {
        kind: "anomaly",
        title: "[oom] CUDA out of memory",
        body: "restarting with BATCH_SIZE=16",
        incident_id: "2026-01-01T00-00-00Z-error-oom",
        time: "2026-01-01T00:00:00.000Z",
        host: "box1",
        project: "demo",
        summary: "[oom] CUDA out of memory",
        detail: ["restarting with BATCH_SIZE=16", "incident: 2026-01-01T00-00-00Z-error-oom"],
        url: null,
        facts: null,
      },
      {
        kind: "exit",
        title: "done",
        body: "",
        incident_id: null,
        time: "2026-01-01T00:00:00.000Z",
        host: "box1",
        project: "demo",
        summary: "done",
        detail: [],
        url: null,
        facts: null,
      },
    ]);
    expect(logger.lines).toEqual([]);
  });

  test("retries after a 500 and then succeeds without logging a failure", async () => {
    const { url, seen } = serve((_req, n) => new Response("x", { status: n === 1 ? 500 : 200 }));
    const logger = new MemoryLogger();
    const w = notifier(url, logger);
    w.notify(note());
    await w.close(10_000);
    expect(seen.length).toBe(2);
    expect(logger.lines).toEqual([]);
  });

  test("gives up after the configured retries and logs once, without the URL's path", async () => {
    const { url, seen } = serve(() => new Response("down", { status: 503 }));
    const logger = new MemoryLogger();
    const delays: number[] = [];
    const w = notifier(url, logger, {
      retries: 3,
      backoffBaseMs: 100,
      backoffMaxMs: 300,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    w.notify(note());
    await w.close(10_000);
    expect(seen.length).toBe(4);
    expect(delays).toEqual([100, 200, 300]);
    const origin = new URL(url).origin;
    expect(logger.lines).toEqual([
      `[ERROR] webhook ${origin}: could not deliver [anomaly] [oom] CUDA out of memory: HTTP 503 (4 attempts)`,
    ]);
    expect(logger.lines.join("\n")).not.toContain("s3cret-token");
  });

  test("a 4xx other than 408/429 is not retried", async () => {
    const { url, seen } = serve(() => new Response("bad", { status: 400 }));
    const logger = new MemoryLogger();
    const w = notifier(url, logger);
    w.notify(note());
    await w.close(10_000);
    expect(seen.length).toBe(1);
    expect(logger.lines).toEqual([
      `[ERROR] webhook ${new URL(url).origin}: could not deliver [anomaly] [oom] CUDA out of memory: HTTP 400 (1 attempt)`,
    ]);
  });

  test("honours Retry-After on a 429", async () => {
    const { url, seen } = serve((_req, n) =>
      n === 1
        ? new Response("slow down", { status: 429, headers: { "Retry-After": "7" } })
        : new Response("ok"),
    );
    const delays: number[] = [];
    const logger = new MemoryLogger();
    const w = notifier(url, logger, {
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    w.notify(note());
    await w.close(10_000);
    expect(seen.length).toBe(2);
    expect(delays).toEqual([7000]);
    expect(logger.lines).toEqual([]);
  });

  test("retries a refused connection and reports the network error", async () => {
    const { url } = serve(() => new Response("ok"));
    servers.pop()!.stop(true);
    const logger = new MemoryLogger();
    const w = notifier(url, logger, { retries: 1 });
    w.notify(note());
    await w.close(10_000);
    expect(logger.lines.length).toBe(1);
    expect(logger.lines[0]).toStartWith(
      `[ERROR] webhook ${new URL(url).origin}: could not deliver [anomaly]`,
    );
    expect(logger.lines[0]).toEndWith("(2 attempts)");
  });

  test("a request without an answer times out", async () => {
    const { url } = serve(() => hang());
    const logger = new MemoryLogger();
    const w = notifier(url, logger, { timeoutMs: 50, retries: 0 });
    w.notify(note());
    await w.close(10_000);
    expect(logger.lines).toEqual([
      `[ERROR] webhook ${new URL(url).origin}: could not deliver [anomaly] [oom] CUDA out of memory: no answer within 50 ms (1 attempt)`,
    ]);
  });

  test("notify returns at once while the server hangs; close gives up after its timeout", async () => {
    let arrived!: () => void;
    const first = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { url, seen } = serve(() => {
      arrived();
      return hang();
    });
    const logger = new MemoryLogger();
    const w = notifier(url, logger);
    w.notify(note({ title: "one" }));
    w.notify(note({ title: "two" }));
    w.notify(note({ title: "three" }));
    // notify only queued: nothing has been delivered, nothing failed.
    expect(w.pending).toBe(3);
    expect(logger.lines).toEqual([]);
    await first;
    await w.close(100);
    expect(seen.length).toBe(1);
    expect(w.pending).toBe(0);
    expect(logger.lines).toEqual([
      `[WARN] webhook ${new URL(url).origin}: gave up on 3 undelivered notification(s) at exit`,
    ]);
    w.notify(note({ title: "late" }));
    expect(logger.lines[1]).toBe(`[WARN] webhook ${new URL(url).origin}: closed, not sending [anomaly] late`);
  });

  test("the queue is bounded: the oldest waiting notification is dropped", async () => {
    const { url } = serve(() => hang());
    const logger = new MemoryLogger();
    const w = notifier(url, logger, { queueLimit: 2 });
    for (const t of ["a", "b", "c", "d"]) w.notify(note({ title: t }));
    // "a" is in flight, "b" was dropped to make room for "d".
    expect(w.pending).toBe(3);
    expect(logger.lines).toEqual([
      `[WARN] webhook ${new URL(url).origin}: queue full (2), dropped [anomaly] b`,
    ]);
    await w.close(10);
  });

  test("close with nothing queued returns at once", async () => {
    const w = notifier("http://127.0.0.1:9/x", new MemoryLogger());
    await w.close(10_000);
    expect(w.pending).toBe(0);
  });
});

describe("parseRetryAfter", () => {
  test("seconds and HTTP dates", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("signing", () => {
  test("with secret_env every body carries sha256=<HMAC of the exact bytes>; an unset secret withholds", async () => {
    const { url, seen } = serve(() => new Response("ok"));
    const logger = new MemoryLogger();
    const w = notifier(url, logger, { secretEnv: "HOOK_SECRET", env: { HOOK_SECRET: "s3cr3t" } });
    w.notify(note());
    await w.close(10_000);
    expect(seen).toHaveLength(1);
    const raw = seen[0]!.raw;
    const expected = `sha256=${createHmac("sha256", "s3cr3t").update(raw).digest("hex")}`;
    expect(seen[0]!.headers["x-autosentry-signature"]).toBe(expected);
    expect(signBody("s3cr3t", raw)).toBe(expected);

    const unset = notifier(url, logger, { secretEnv: "HOOK_SECRET", env: {}, signatureHeader: "X-Sig" });
    unset.notify(note());
    await unset.close(10_000);
    expect(seen).toHaveLength(1);
    expect(logger.lines).toEqual([
      `[ERROR] webhook ${new URL(url).origin}: not sending [anomaly] [oom] CUDA out of memory: the signing secret variable HOOK_SECRET is not set`,
    ]);
  });
});
