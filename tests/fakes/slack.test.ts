import { afterEach, describe, expect, test } from "bun:test";
import { type FakeSlack, startFakeSlack } from "./slack.ts";

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
type J = Record<string, any>;

let fake: FakeSlack | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

const auth = { authorization: "Bearer xoxb-test-token", "content-type": "application/json; charset=utf-8" };
const post = (method: string, body: unknown, headers: Record<string, string> = auth) =>
  fetch(`${fake!.api}/${method}`, { method: "POST", headers, body: JSON.stringify(body) });
const get = async (method: string, q: Record<string, string>) =>
  (await (await fetch(`${fake!.api}/${method}?${new URLSearchParams(q)}`, { headers: auth })).json()) as J;

describe("fake Slack Web API", () => {
  test("chat.postMessage answers {ok, channel, ts, message}; replies list the parent first; metadata only on request", async () => {
    fake = startFakeSlack();
    const a = (await (
      await post("chat.postMessage", {
        channel: "C1",
        text: "parent",
        metadata: { event_type: "e", event_payload: { key: "o0" } },
      })
    ).json()) as J;
    expect(Object.keys(a)).toEqual(["ok", "channel", "ts", "message"]);
    expect(a.ok).toBe(true);
    expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
    const b = (await (
      await post("chat.postMessage", { channel: "C1", text: "child", thread_ts: a.ts })
    ).json()) as J;
    const human = fake.reply("C1", a.ts, "U1", "pause");
    const r = await get("conversations.replies", { channel: "C1", ts: a.ts });
    expect(r.messages.map((m: J) => [m.text, m.thread_ts])).toEqual([
      ["parent", a.ts],
      ["child", a.ts],
      ["pause", a.ts],
    ]);
    expect(r.messages[0].metadata).toBeUndefined();
    expect(r.has_more).toBe(false);
    const after = await get("conversations.replies", {
      channel: "C1",
      ts: a.ts,
      oldest: b.ts,
      inclusive: "false",
    });
    expect(after.messages.map((m: J) => m.ts)).toEqual([a.ts, human]);
    const hist = await get("conversations.history", { channel: "C1", include_all_metadata: "true" });
    expect(hist.messages.map((m: J) => m.metadata?.event_payload?.key)).toEqual(["o0"]);
    const page = await get("conversations.replies", { channel: "C1", ts: a.ts, limit: "1" });
    expect([page.has_more, page.response_metadata.next_cursor]).toEqual([true, "1"]);
  });

  test("errors as Slack gives them: ok:false codes with HTTP 200, 429 with Retry-After, 5xx", async () => {
    fake = startFakeSlack({
      fault: (m, n) =>
        m === "auth.test" && n === 2
          ? { status: 429, retryAfter: 30 }
          : m === "auth.test" && n === 3
            ? { status: 500 }
            : null,
    });
    expect(
      await (
        await post("chat.postMessage", { channel: "C1", text: "x" }, { authorization: "Bearer nope" })
      ).json(),
    ).toEqual({ ok: false, error: "invalid_auth" });
    expect(await (await post("chat.postMessage", { channel: "X9", text: "x" })).json()).toEqual({
      ok: false,
      error: "channel_not_found",
    });
    expect(
      await (await post("chat.postMessage", { channel: "C1", text: "x", thread_ts: "1.000000" })).json(),
    ).toEqual({ ok: false, error: "thread_not_found" });
    expect(((await (await post("auth.test", {})).json()) as Record<string, unknown>).user_id).toBe("UBOT");
    const limited = await post("auth.test", {});
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "30"]);
    expect((await post("auth.test", {})).status).toBe(500);
  });
});
