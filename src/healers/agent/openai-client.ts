/**
 * @module
 * `healing.claude.api.provider: openai`: the read-only API agent over the OpenAI-compatible Chat
 * Completions API, which vLLM, Ollama, llama.cpp's server and OpenAI itself expose, so that an
 * air-gapped cluster can heal with a model it hosts. Same contract as the Messages API client
 * (api-client.ts): the same three read-only tools, the same step cap, an ACTION block answer.
 *
 * Protocol: `POST <base_url>/v1/chat/completions`, non-streaming, `Authorization: Bearer <key>`
 * when a key is set (local servers usually need none). Tools are `{type: "function"}` entries;
 * each round appends the assistant message with its `tool_calls` and one `role: "tool"` message
 * per call. After `maxSteps` rounds the request carries `tool_choice: "none"`.
 */
import type { ApiAgentInput, ApiAgentOptions, ApiAgentResult } from "./api-client.ts";
import { SYSTEM_PROMPT } from "./api-client.ts";
import { type PostTarget, postJson } from "./json-post.ts";
import { TOOL_DEFINITIONS } from "./read-only-tools.ts";
import { type AgentProtocol, LAST_STEP_NOTE, runToolLoop } from "./tool-loop.ts";

interface ToolCall {
  id: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

interface ChatResponse {
  choices?: {
    message?: { content?: string | null; tool_calls?: ToolCall[] };
    finish_reason?: string | null;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** The read-only tools as Chat Completions function tools. */
export const FUNCTION_TOOLS = TOOL_DEFINITIONS.map((t) => ({
  type: "function" as const,
  function: { name: t.name, description: t.description, parameters: t.input_schema },
}));

/** A tool call's arguments: JSON text, as the API sends them; anything else becomes `{}`. */
function parseArguments(text: string | undefined): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { _unparsed: text };
  }
}

/** The Chat Completions side of the conversation (the loop itself is tool-loop.ts). */
function chatProtocol(input: ApiAgentInput, opts: ApiAgentOptions): AgentProtocol {
  const messages: ChatMessage[] = [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: input.prompt },
  ];
  const target: PostTarget = {
    url: `${opts.baseUrl.replace(/\/+$/, "")}/v1/chat/completions`,
    headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : ({} as Record<string, string>),
    label: "Chat Completions API",
  };
  return {
    async ask(mustAnswer, countRequest) {
      const body = {
        model: opts.model,
        max_tokens: opts.maxTokens ?? 4096,
        messages,
        tools: FUNCTION_TOOLS,
        ...(mustAnswer ? { tool_choice: "none" } : {}),
      };
      const res = await postJson<ChatResponse>(target, body, opts, countRequest);
      const msg = res.choices?.[0]?.message ?? {};
      const text = typeof msg.content === "string" ? msg.content : "";
      const calls = (Array.isArray(msg.tool_calls) ? msg.tool_calls : []).filter(
        (c) => typeof c?.id === "string" && typeof c.function?.name === "string",
      );
      messages.push({
        role: "assistant",
        content: text || null,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      });
      return {
        text,
        calls: calls.map((c) => ({
          id: c.id,
          name: c.function?.name ?? "",
          input: parseArguments(c.function?.arguments),
        })),
        // Chat Completions has no stop reason that ends a turn holding calls: calls mean "run them".
        wantsTools: true,
        usage: { input: res.usage?.prompt_tokens ?? 0, output: res.usage?.completion_tokens ?? 0 },
      };
    },
    answer(results, lastStep) {
      for (const r of results) {
        messages.push({
          role: "tool",
          tool_call_id: r.call.id,
          content: r.isError ? `error: ${r.content}` : r.content,
        });
      }
      if (lastStep) messages.push({ role: "user", content: LAST_STEP_NOTE });
    },
  };
}

/** Run the read-only agent over Chat Completions to an answer (or a classified failure); never rejects. */
export function runOpenAiAgent(input: ApiAgentInput, opts: ApiAgentOptions): Promise<ApiAgentResult> {
  return runToolLoop(input, opts, chatProtocol(input, opts));
}
