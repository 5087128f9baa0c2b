/**
 * @module
 * A loopback-only fake of the OpenAI-compatible Chat Completions API (`POST /v1/chat/completions`),
 * the shape vLLM, Ollama and llama.cpp servers expose, for testing `healing.claude.api.provider:
 * openai` offline. Non-streaming only (autosentry never asks for a stream).
 *
 * Replies come from a script; like the Anthropic fake it is stateless: reply `k` answers a request
 * that already holds `k` assistant messages. A step can fail with any HTTP status.
 *
 * In-process: `const fake = await startFakeOpenAi({ script })`; `fake.url`, `fake.requests`.
 * As a script: `bun tests/fakes/openai.ts` with `FAKE_PORT` (0 = any), `FAKE_SCRIPT` (JSON file of
 * the script array), `FAKE_TEXT`; it prints `fake-openai listening on <url>`.
 */
import * as fs from "node:fs";

export interface FakeToolCall {
  name: string;
  /** Sent as the JSON text of `function.arguments` (a string, as the real API does). */
  arguments?: unknown;
}

export interface FakeChatStep {
  text?: string;
  tool_calls?: FakeToolCall[];
  status?: number;
  message?: string;
}

export interface RecordedChatRequest {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeOpenAi {
  url: string;
  readonly requests: RecordedChatRequest[];
  setScript(script: FakeChatStep[], text?: string): void;
  close(): Promise<void>;
}

const ERROR_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "invalid_api_key",
  403: "permission_denied",
  429: "rate_limit_exceeded",
  500: "server_error",
  503: "server_error",
};

/** Start the fake on 127.0.0.1 (port 0: any free port). */
export async function startFakeOpenAi(
  opts: { script?: FakeChatStep[]; text?: string; port?: number } = {},
): Promise<FakeOpenAi> {
  let script = opts.script ?? [];
  let fallback = opts.text ?? "ACTION: restart";
  const requests: RecordedChatRequest[] = [];
  let seq = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    async fetch(req) {
      const url = new URL(req.url);
      const text = await req.text();
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => {
        headers[k] = v;
      });
      requests.push({ path: url.pathname, headers, body });
      if (req.method !== "POST" || url.pathname !== "/v1/chat/completions") {
        return Response.json(
          { error: { message: "not found", type: "invalid_request_error" } },
          { status: 404 },
        );
      }
      const b = (body ?? {}) as { model?: string; messages?: { role?: string }[] };
      const k = (b.messages ?? []).filter((m) => m?.role === "assistant").length;
      const step = script[k] ?? { text: fallback };
      if (step.status !== undefined) {
        return Response.json(
          {
            error: {
              message: step.message ?? "fake failure",
              type: ERROR_TYPE[step.status] ?? "server_error",
            },
          },
          { status: step.status },
        );
      }
      const calls = (step.tool_calls ?? []).map((c) => ({
        id: `call_fake_${++seq}`,
        type: "function",
        function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) },
      }));
      return Response.json({
        id: `chatcmpl-fake-${++seq}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: b.model ?? "fake-model",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: step.text ?? null,
              ...(calls.length > 0 ? { tool_calls: calls } : {}),
            },
            finish_reason: calls.length > 0 ? "tool_calls" : "stop",
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
      });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    setScript(s, t) {
      script = s;
      if (t !== undefined) fallback = t;
    },
    async close() {
      server.stop(true);
    },
  };
}

if (import.meta.main) {
  const script = process.env.FAKE_SCRIPT
    ? (JSON.parse(fs.readFileSync(process.env.FAKE_SCRIPT, "utf8")) as FakeChatStep[])
    : [];
  const fake = await startFakeOpenAi({
    script,
    ...(process.env.FAKE_TEXT !== undefined ? { text: process.env.FAKE_TEXT } : {}),
    port: Number(process.env.FAKE_PORT ?? 0),
  });
  console.log(`fake-openai listening on ${fake.url}`);
}
