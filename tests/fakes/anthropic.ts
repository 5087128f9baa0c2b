/**
 * @module
 * A loopback-only fake of the Anthropic Messages API, for driving the real `claude` CLI and
 * autosentry's own API client offline.
 *
 * Replies come from a script. The server is stateless: reply `k` answers a request that already
 * holds `k` assistant messages, so retries replay the same step and replies do not depend on the
 * order of requests. Requests that carry no `tools` (the CLI's title/summary side calls) get
 * `sideText`. Streaming (`"stream": true`, SSE) and plain JSON replies are both served, and a step
 * can fail with any HTTP status (401, 429, 500, 529, …) or never answer at all (`hang`).
 *
 * In-process:
 * ```ts
 * const fake = await startFakeAnthropic({ script: [{ text: "ACTION: restart" }] });
 * // fake.url → http://127.0.0.1:<port>; fake.requests → every request seen
 * await fake.close();
 * ```
 * As a script: `bun tests/fakes/anthropic.ts` with `FAKE_PORT` (default 8787, 0 = any),
 * `FAKE_SCRIPT` (a JSON file holding the script array), `FAKE_TEXT`, `FAKE_SIDE_TEXT` and
 * `FAKE_LOG` (JSON Lines file of requests). It prints `fake-anthropic listening on <url>`.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A tool call the fake "model" makes. */
export interface FakeToolUse {
  name: string;
  input?: unknown;
}

/** One scripted reply. */
export interface FakeStep {
  /** Text block (emitted before any tool_use blocks). */
  text?: string;
  tool_use?: FakeToolUse;
  tool_uses?: FakeToolUse[];
  /** Fail with this HTTP status instead of answering (401, 429, 500, 529, …). */
  status?: number;
  /** `error.type` of the failure body (default by status: authentication_error, rate_limit_error, …). */
  error_type?: string;
  /** `error.message` of the failure body. */
  message?: string;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
  /** Never answer: the request stays open until the client gives up or the server closes. */
  hang?: boolean;
}

export interface FakeAnthropicOptions {
  script?: FakeStep[];
  /** Reply once the script has run out (or when there is none). Default `ACTION: restart`. */
  text?: string;
  /** Reply to requests without tools. Default `ok`. */
  sideText?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Also append every request and reply to this JSON Lines file. */
  logFile?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (or the raw text when it is not JSON, or null when empty). */
  body: unknown;
}

export interface FakeAnthropic {
  url: string;
  port: number;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** The `POST /v1/messages` requests that carried tools (the agent loop's own turns). */
  agentRequests(): RecordedRequest[];
  /** Replace the script (and optionally the fallback text) for later requests. */
  setScript(script: FakeStep[], text?: string): void;
  /** Stop listening and drop every open connection (hanging ones included). */
  close(): Promise<void>;
}

const DEFAULT_ERROR_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

interface MessagesBody {
  model?: string;
  stream?: boolean;
  tools?: unknown[];
  messages?: { role?: string }[];
}

type Block = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: unknown };

/** Start the fake on 127.0.0.1. */
export function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  let script = opts.script ?? [];
  let fallbackText = opts.text ?? "ACTION: restart";
  const sideText = opts.sideText ?? "ok";
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;

  const log = (entry: unknown): void => {
    if (opts.logFile) fs.appendFileSync(opts.logFile, `${JSON.stringify(entry)}\n`);
  };

  const pick = (body: MessagesBody): FakeStep & { side?: boolean } => {
    if (!Array.isArray(body.tools) || body.tools.length === 0) return { text: sideText, side: true };
    const k = (body.messages ?? []).filter((m) => m?.role === "assistant").length;
    return script[k] ?? { text: fallbackText };
  };

  const blocksOf = (step: FakeStep): Block[] => {
    const blocks: Block[] = [];
    if (step.text !== undefined) blocks.push({ type: "text", text: step.text });
    const uses = step.tool_uses ?? (step.tool_use ? [step.tool_use] : []);
    for (const u of uses) {
      blocks.push({ type: "tool_use", id: `toolu_fake_${++seq}`, name: u.name, input: u.input ?? {} });
    }
    return blocks;
  };

  const message = (body: MessagesBody, content: Block[], stop: string | null) => ({
    id: `msg_fake_${++seq}`,
    type: "message",
    role: "assistant",
    model: body.model ?? "claude-fake",
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: {
      input_tokens: 10,
      output_tokens: 10,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  });

  const answerMessages = (res: http.ServerResponse, body: MessagesBody): void => {
    const step = pick(body);
    if (step.hang) {
      log({ t: new Date().toISOString(), reply: "hang" });
      return; // leave the request open
    }
    if (step.status !== undefined) {
      log({ t: new Date().toISOString(), reply: { status: step.status } });
      res.writeHead(step.status, {
        "content-type": "application/json",
        "request-id": `req_fake_${++seq}`,
        ...step.headers,
      });
      res.end(
        JSON.stringify({
          type: "error",
          error: {
            type: step.error_type ?? DEFAULT_ERROR_TYPE[step.status] ?? "api_error",
            message: step.message ?? "fake failure",
          },
        }),
      );
      return;
    }
    const blocks = blocksOf(step);
    const stop = blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn";
    log({ t: new Date().toISOString(), reply: { side: !!step.side, stop, blocks } });
    if (!body.stream) {
      res.writeHead(200, {
        "content-type": "application/json",
        "request-id": `req_fake_${++seq}`,
        ...step.headers,
      });
      res.end(JSON.stringify(message(body, blocks, stop)));
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "request-id": `req_fake_${++seq}`,
      ...step.headers,
    });
    const sse = (event: string, data: unknown): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const start = message(body, [], null);
    start.usage.output_tokens = 1;
    sse("message_start", { type: "message_start", message: start });
    sse("ping", { type: "ping" });
    blocks.forEach((b, index) => {
      if (b.type === "text") {
        sse("content_block_start", {
          type: "content_block_start",
          index,
          content_block: { type: "text", text: "" },
        });
        sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text: b.text },
        });
      } else {
        sse("content_block_start", {
          type: "content_block_start",
          index,
          content_block: { type: "tool_use", id: b.id, name: b.name, input: {} },
        });
        sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: JSON.stringify(b.input) },
        });
      }
      sse("content_block_stop", { type: "content_block_stop", index });
    });
    sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: 10 },
    });
    sse("message_stop", { type: "message_stop" });
    res.end();
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = raw;
      }
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q === -1 ? url : url.slice(0, q);
      const rec: RecordedRequest = {
        method: req.method ?? "GET",
        path,
        query: q === -1 ? "" : url.slice(q + 1),
        headers: { ...req.headers },
        body,
      };
      requests.push(rec);
      log({ t: new Date().toISOString(), ...rec });
      if (rec.method === "POST" && path === "/v1/messages") {
        answerMessages(res, body !== null && typeof body === "object" ? (body as MessagesBody) : {});
        return;
      }
      if (rec.method === "POST" && path === "/v1/messages/count_tokens") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ input_tokens: 100 }));
        return;
      }
      if (rec.method === "HEAD" || (rec.method === "GET" && path === "/")) {
        res.writeHead(200);
        res.end();
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          type: "error",
          error: { type: "not_found_error", message: `fake: no ${rec.method} ${path}` },
        }),
      );
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        agentRequests: () =>
          requests.filter((r) => {
            const b = r.body as MessagesBody | null;
            return r.path === "/v1/messages" && Array.isArray(b?.tools) && b.tools.length > 0;
          }),
        setScript(next, text) {
          script = next;
          if (text !== undefined) fallbackText = text;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            sockets.clear();
            server.close(() => done());
          }),
      });
    });
  });
}

if (import.meta.main) {
  const env = process.env;
  const script = env.FAKE_SCRIPT ? (JSON.parse(fs.readFileSync(env.FAKE_SCRIPT, "utf8")) as FakeStep[]) : [];
  const fake = await startFakeAnthropic({
    script,
    port: Number(env.FAKE_PORT ?? 8787),
    ...(env.FAKE_TEXT !== undefined ? { text: env.FAKE_TEXT } : {}),
    ...(env.FAKE_SIDE_TEXT !== undefined ? { sideText: env.FAKE_SIDE_TEXT } : {}),
    ...(env.FAKE_LOG !== undefined ? { logFile: env.FAKE_LOG } : {}),
  });
  console.log(`fake-anthropic listening on ${fake.url}`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
