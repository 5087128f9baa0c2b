import { afterEach, describe, expect, test } from "bun:test";
import { type FakeDiscord, startFakeDiscord } from "./discord.ts";

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
type J = Record<string, any>;

let fake: FakeDiscord | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

const headers = { authorization: "Bot discord-test-token", "content-type": "application/json" };
const req = (method: string, p: string, body?: unknown) =>
  fetch(`${fake!.api}${p}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });

describe("fake Discord REST API", () => {
  test("messages, threads started on a message (same id; again → 160004), ?after= newest first, nonce", async () => {
    fake = startFakeDiscord({ channels: ["111"] });
    const m = (await (
      await req("POST", "/channels/111/messages", { content: "hi", nonce: "n1", enforce_nonce: true })
    ).json()) as J;
    expect(m).toMatchObject({ channel_id: "111", content: "hi", author: { bot: true }, nonce: "n1" });
    const again = (await (
      await req("POST", "/channels/111/messages", { content: "hi", nonce: "n1", enforce_nonce: true })
    ).json()) as J;
    expect(again.id).toBe(m.id);
    const t = await req("POST", `/channels/111/messages/${m.id}/threads`, {
      name: "x",
      auto_archive_duration: 1440,
    });
    expect(t.status).toBe(201);
    expect(((await t.json()) as Record<string, unknown>).id).toBe(m.id);
    const dup = await req("POST", `/channels/111/messages/${m.id}/threads`, { name: "x" });
    expect([dup.status, ((await dup.json()) as Record<string, unknown>).code]).toEqual([400, 160004]);
    await req("POST", `/channels/${m.id}/messages`, { content: "in thread" });
    fake.reply(m.id, "42", "pause");
    const list = (await (
      await req("GET", `/channels/${m.id}/messages?after=${m.id}&limit=100`)
    ).json()) as Array<J>;
    expect(list.map((x) => x.content)).toEqual(["pause", "in thread"]);
    expect((await req("GET", "/channels/999/messages")).status).toBe(404);
    expect(((await (await req("GET", "/users/@me")).json()) as Record<string, unknown>).bot).toBe(true);
  });

  test("429 with Retry-After and retry_after; webhooks with ?wait=true, thread_name in forums, thread_id", async () => {
    fake = startFakeDiscord({
      forums: ["222"],
      webhooks: { "7/tok": "222" },
      fault: (route, n) => (route === "GET /users/@me" && n === 1 ? { status: 429, retryAfter: 1.5 } : null),
    });
    const limited = await req("GET", "/users/@me");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(((await limited.json()) as Record<string, unknown>).retry_after).toBe(1.5);
    const hook = (q: string, body: unknown) =>
      fetch(`${fake!.url}/api/v10/webhooks/7/tok${q}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await hook("?wait=true", { content: "no thread" })).status).toBe(400);
    const post = (await (await hook("?wait=true", { content: "first", thread_name: "run" })).json()) as J;
    expect(fake.threads.get(post.channel_id)).toBe("222");
    const next = await hook(`?wait=true&thread_id=${post.channel_id}`, { content: "second" });
    expect(((await next.json()) as J).channel_id).toBe(post.channel_id);
    expect((await hook(`?thread_id=${post.channel_id}`, { content: "third" })).status).toBe(204);
  });
});
