import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { type FakeChatStep, type FakeOpenAi, startFakeOpenAi } from "../../../tests/fakes/openai.ts";
import { makeTempRepo, type TempRepo } from "../../../tests/fakes/temp-repo.ts";
import type { ApiAgentOptions } from "./api-client.ts";
import { isDisablingFailure } from "./failure.ts";
import { runOpenAiAgent } from "./openai-client.ts";

let fake: FakeOpenAi;
const repos: TempRepo[] = [];
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  for (const r of repos.splice(0)) r.remove();
});

function project(): TempRepo {
  const r = makeTempRepo({ "train.py": "lr = cfg['learning_rate']\n", "train.yaml": "lr: 0.1\n" });
  repos.push(r);
  return r;
}

function opts(over: Partial<ApiAgentOptions> = {}): ApiAgentOptions {
  return {
    baseUrl: fake.url,
    apiKey: "",
    model: "qwen-local",
    maxSteps: 4,
    requestTimeoutMs: 10_000,
    ...over,
  };
}

function script(steps: FakeChatStep[]): number {
  fake.setScript(steps, "ACTION: none");
  return fake.requests.length;
}

const LOG = "KeyError: 'learning_rate'\n";

type Body = { model: string; messages: Record<string, unknown>[]; tools: unknown[]; tool_choice?: unknown };

describe("runOpenAiAgent (fake Chat Completions API)", () => {
  test("function tool calls run the read-only tools; the answer's ACTION block is parsed", async () => {
    const r = project();
    const from = script([
      {
        tool_calls: [
          { name: "read_file", arguments: { path: "train.py" } },
          { name: "view_log_excerpt", arguments: {} },
        ],
      },
      { text: "train.py reads learning_rate; the yaml says lr.\nACTION: pause" },
    ]);
    const res = await runOpenAiAgent({ prompt: "incident prompt", root: r.dir, logExcerpt: LOG }, opts());
    expect(res.failure).toBeNull();
    expect(res.parsed?.action?.kind).toBe("pause");
    expect(res.steps).toBe(1);
    expect(res.requests).toBe(2);
    expect(res.toolCalls.map((c) => [c.name, c.isError])).toEqual([
      ["read_file", false],
      ["view_log_excerpt", false],
    ]);
    const first = fake.requests[from]!;
    expect(first.path).toBe("/v1/chat/completions");
    expect(first.headers.authorization).toBeUndefined(); // no key: a local server
    const body = first.body as Body;
    expect(body.model).toBe("qwen-local");
    expect(body.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(body.messages[1]).toEqual({ role: "user", content: "incident prompt" });
    expect(body.tools).toContainEqual(
      expect.objectContaining({ type: "function", function: expect.objectContaining({ name: "grep" }) }),
    );
    // The second request carries the assistant's tool calls and one tool message per call.
    const second = fake.requests[from + 1]!.body as Body;
    const roles = second.messages.map((m) => m.role);
    expect(roles).toEqual(["system", "user", "assistant", "tool", "tool"]);
    const calls = second.messages[2]!.tool_calls as { id: string }[];
    expect(second.messages[3]!.tool_call_id).toBe(calls[0]!.id);
    expect(second.messages[3]!.content).toContain("lr = cfg['learning_rate']");
    expect(second.messages[4]!.content).toBe(LOG);
  });

  test("a key is sent as a bearer token", async () => {
    const r = project();
    const from = script([{ text: "ACTION: restart" }]);
    await runOpenAiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts({ apiKey: "sk-local" }));
    expect(fake.requests[from]!.headers.authorization).toBe("Bearer sk-local");
  });

  test("the step cap: tool_choice none and a request for the answer", async () => {
    const r = project();
    const from = script([
      { tool_calls: [{ name: "view_log_excerpt" }] },
      { tool_calls: [{ name: "view_log_excerpt" }] },
      { text: "ACTION: restart" },
    ]);
    const res = await runOpenAiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts({ maxSteps: 2 }));
    expect(res.parsed?.action?.kind).toBe("restart");
    const bodies = fake.requests.slice(from).map((q) => q.body as Body);
    expect(bodies.map((b) => b.tool_choice)).toEqual([undefined, undefined, "none"]);
    expect(JSON.stringify(bodies[2]!.messages.at(-1))).toContain("That was your last tool step");
  });

  test("a tool outside the root is refused as an error result, never read", async () => {
    const r = project();
    const from = script([
      { tool_calls: [{ name: "read_file", arguments: { path: "/etc/passwd" } }] },
      { text: "ACTION: abort" },
    ]);
    const res = await runOpenAiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts());
    expect(res.toolCalls[0]!.isError).toBe(true);
    const tool = (fake.requests[from + 1]!.body as Body).messages.at(-1)!;
    expect(tool.content).toStartWith("error: ");
    expect(String(tool.content)).not.toContain("root:x:0:0");
  });

  test("401 → auth and 429 → quota (disabling); 500 retried once then api_error", async () => {
    const r = project();
    for (const [status, kind] of [
      [401, "auth"],
      [429, "quota"],
    ] as const) {
      const from = script([{ status, message: "nope" }]);
      const res = await runOpenAiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts());
      expect(res.failure?.kind).toBe(kind);
      expect(isDisablingFailure(res.failure!.kind)).toBe(true);
      expect(res.failure?.message).toContain(`Chat Completions API ${status}`);
      expect(fake.requests.length - from).toBe(1);
    }
    const from = script([{ status: 500, message: "boom" }]);
    const res = await runOpenAiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts());
    expect(res.failure?.kind).toBe("api_error");
    expect(fake.requests.length - from).toBe(2);
  });
});
