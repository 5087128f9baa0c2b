/**
 * @module
 * The read-only API agent's conversation loop, shared by both wire protocols (the Messages API in
 * api-client.ts and OpenAI-compatible Chat Completions in openai-client.ts): ask, run the tools the
 * model called, answer them, until the model answers or the step cap forces it to. A protocol
 * supplies only what differs on the wire: how a request is built, how a reply names its text and
 * tool calls, and how tool results go back.
 */
import { parseActionBlock } from "./action-block.ts";
import type { ApiAgentInput, ApiAgentOptions, ApiAgentResult } from "./api-client.ts";
import { HttpFailure } from "./json-post.ts";
import { runTool, type ToolContext } from "./read-only-tools.ts";

/** A tool call as the model made it, arguments already decoded. */
export interface ToolCallRequest {
  id: string;
  name: string;
  input: unknown;
}

/** What one reply of the model said. */
export interface AgentTurn {
  text: string;
  calls: ToolCallRequest[];
  /** False when the reply ends the conversation although it holds calls (Messages API stop_reason). */
  wantsTools: boolean;
  usage: { input: number; output: number };
}

export interface ToolAnswer {
  call: ToolCallRequest;
  content: string;
  isError: boolean;
}

/** One wire protocol's side of the conversation; it keeps the message list it sends. */
export interface AgentProtocol {
  /** Send the conversation so far (with tool use forbidden when `mustAnswer`) and record the reply. */
  ask(mustAnswer: boolean, countRequest: () => void): Promise<AgentTurn>;
  /** Append the tool results; on the last step also `LAST_STEP_NOTE`. */
  answer(results: ToolAnswer[], lastStep: boolean): void;
}

export const LAST_STEP_NOTE =
  "That was your last tool step. Answer now: your diagnosis, then the ACTION block.";

/** Run the read-only agent to an answer (or a classified failure); never rejects. */
export async function runToolLoop(
  input: ApiAgentInput,
  opts: ApiAgentOptions,
  protocol: AgentProtocol,
): Promise<ApiAgentResult> {
  const ctx: ToolContext = { root: input.root, logExcerpt: input.logExcerpt };
  const result: ApiAgentResult = {
    ok: false,
    failure: null,
    text: "",
    parsed: null,
    steps: 0,
    toolCalls: [],
    requests: 0,
    usage: { input_tokens: 0, output_tokens: 0 },
  };
  try {
    for (;;) {
      const mustAnswer = result.steps >= opts.maxSteps;
      const turn = await protocol.ask(mustAnswer, () => result.requests++);
      result.usage.input_tokens += turn.usage.input;
      result.usage.output_tokens += turn.usage.output;
      if (turn.calls.length === 0 || !turn.wantsTools || mustAnswer) {
        if (turn.calls.length > 0 && mustAnswer && !turn.text.trim()) {
          result.failure = {
            kind: "max_turns",
            message: `API agent still calling tools after ${opts.maxSteps} steps`,
          };
          return result;
        }
        result.ok = true;
        result.text = turn.text;
        result.parsed = parseActionBlock(turn.text);
        return result;
      }
      result.steps++;
      const answers: ToolAnswer[] = [];
      for (const call of turn.calls) {
        const r = await runTool(ctx, call.name, call.input);
        result.toolCalls.push({ name: call.name, input: call.input, isError: r.isError });
        answers.push({ call, content: r.content, isError: r.isError });
      }
      protocol.answer(answers, result.steps >= opts.maxSteps);
    }
  } catch (e) {
    if (e instanceof HttpFailure) {
      result.failure = e.failure;
      return result;
    }
    result.failure = { kind: "other", message: `API agent failed: ${(e as Error).message}` };
    return result;
  }
}
