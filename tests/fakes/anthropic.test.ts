import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type FakeAnthropic, startFakeAnthropic } from "./anthropic.ts";

let fake: FakeAnthropic | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

const post = (url: string, body: unknown) =>
  fetch(`${url}/v1/messages?beta=true`, { method: "POST", body: JSON.stringify(body) });
const tools = [{ name: "Read", input_schema: { type: "object" } }];

interface Msg {
  stop_reason: string;
  content: { type: string; name?: string; text?: string; input?: unknown }[];
}
const msgOf = async (res: Response | Promise<Response>): Promise<Msg> => (await (await res).json()) as Msg;

describe("fake Messages API", () => {
  test("picks the step by the number of assistant messages (stateless), plain JSON", async () => {
    fake = await startFakeAnthropic({
      script: [{ tool_use: { name: "Read", input: { file_path: "/x" } } }, { text: "done" }],
    });
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const first = await msgOf(post(fake.url, { tools, messages: [{ role: "user", content: "hi" }] }));
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content[0]).toMatchObject({ type: "tool_use", name: "Read", input: { file_path: "/x" } });
    const again = await msgOf(post(fake.url, { tools, messages: [{ role: "user", content: "hi" }] }));
    expect(again.content[0]!.name).toBe("Read");
    const second = await msgOf(
      post(fake.url, {
        tools,
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: [] },
        ],
      }),
    );
    expect(second).toMatchObject({ stop_reason: "end_turn", content: [{ type: "text", text: "done" }] });
    const beyond = await msgOf(
      post(fake.url, {
        tools,
        messages: [{ role: "assistant" }, { role: "assistant" }, { role: "assistant" }],
      }),
    );
    expect(beyond.content[0]!.text).toBe("ACTION: restart");
    const side = await msgOf(post(fake.url, { messages: [] }));
    expect(side.content[0]!.text).toBe("ok");
    expect(fake.requests).toHaveLength(5);
    expect(fake.agentRequests()).toHaveLength(4);
    expect(fake.requests[0]!.query).toBe("beta=true");
  });

  test("streams SSE events that rebuild the same message", async () => {
    fake = await startFakeAnthropic({
      script: [{ text: "hello", tool_use: { name: "Read", input: { a: 1 } } }],
    });
    const res = await post(fake.url, { tools, stream: true, messages: [] });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = (await res.text())
      .split("\n\n")
      .filter(Boolean)
      .map((e) => JSON.parse(e.split("\n")[1]!.slice("data: ".length)));
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[3].delta).toEqual({ type: "text_delta", text: "hello" });
    expect(JSON.parse(events[6].delta.partial_json)).toEqual({ a: 1 });
    expect(events[8].delta.stop_reason).toBe("tool_use");
  });

  test("scripted error statuses with Anthropic error bodies", async () => {
    fake = await startFakeAnthropic({
      script: [{ status: 529, headers: { "retry-after": "1" } }],
    });
    const res = await post(fake.url, { tools, messages: [] });
    expect(res.status).toBe(529);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "fake failure" },
    });
    fake.setScript([{ status: 401, message: "invalid x-api-key" }]);
    const r401 = await post(fake.url, { tools, messages: [] });
    expect(await r401.json()).toEqual({
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
  });

  test("runs as a script: FAKE_PORT=0, FAKE_SCRIPT, FAKE_LOG; prints its URL", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-fake-"));
    fs.writeFileSync(path.join(dir, "steps.json"), JSON.stringify([{ text: "from the script" }]));
    const proc = Bun.spawn([process.execPath, path.join(import.meta.dir, "anthropic.ts")], {
      env: {
        ...process.env,
        FAKE_PORT: "0",
        FAKE_SCRIPT: path.join(dir, "steps.json"),
        FAKE_LOG: path.join(dir, "log.jsonl"),
      },
      stdout: "pipe",
    });
    try {
      const reader = proc.stdout.getReader();
      let out = "";
      while (!out.includes("\n")) out += new TextDecoder().decode((await reader.read()).value);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      const msg = await msgOf(post(url, { tools, messages: [] }));
      expect(msg.content[0]!.text).toBe("from the script");
      const log = fs.readFileSync(path.join(dir, "log.jsonl"), "utf8").trim().split("\n");
      expect(JSON.parse(log[0]!)).toMatchObject({ method: "POST", path: "/v1/messages" });
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
