import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type FakeDiscord, startFakeDiscord } from "../../tests/fakes/discord.ts";
import { type FakeSlack, type SlackFault, startFakeSlack } from "../../tests/fakes/slack.ts";
import type { MonitorPaths } from "../monitor/paths.ts";
import { OutboxNotifier } from "../notify/outbox.ts";
import { readJsonl } from "../util/jsonl.ts";
import { MemoryLogger } from "../util/logger.ts";
import { DiscordBotBackend } from "./backends/discord-bot.ts";
import { SlackApiBackend } from "./backends/slack-api.ts";
import { DiscordWebhookBackend, SlackWebhookBackend } from "./backends/webhooks.ts";
import { type ChatControlRecord, FileControlSink } from "./control-sink.ts";
import { Dispatcher } from "./dispatcher.ts";
import { Ledger } from "./ledger.ts";
import type { Backend } from "./types.ts";

let tmp: string;
let slack: FakeSlack | null = null;
let discord: FakeDiscord | null = null;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "as-dispatch-"));
});
afterEach(async () => {
  await slack?.close();
  await discord?.close();
  slack = null;
  discord = null;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const paths = (): MonitorPaths => ({
  state: path.join(tmp, "state.json"),
  lock: path.join(tmp, "monitor.lock"),
  control: path.join(tmp, "control.jsonl"),
  runDir: path.join(tmp, "run"),
  logDir: path.join(tmp, "logs"),
  journal: path.join(tmp, "logs", "events.jsonl"),
  monitorLog: path.join(tmp, "logs", "autosentry.log"),
  incidents: path.join(tmp, "incidents"),
});

function outbox(platform: "slack" | "discord", threadKey = "proj") {
  const file = path.join(tmp, `${platform}_outbox.jsonl`);
  const n = new OutboxNotifier({ platform, path: file, threadKey, logger: new MemoryLogger() });
  const add = (title: string, over: Record<string, unknown> = {}) =>
    n.notify({ kind: "anomaly", title, body: "", incident_id: null, ...over });
  return { file, add };
}

interface Clock {
  t: number;
}

function dispatcher(
  backend: Backend,
  file: string,
  clock: Clock,
  over: { allowed?: string[]; channel?: string } = {},
) {
  const logs: string[] = [];
  const d = new Dispatcher({
    backend,
    ledger: new Ledger(path.join(tmp, "ledger.jsonl")),
    outboxPath: file,
    defaultChannel: over.channel ?? "C1",
    control: new FileControlSink(paths()),
    allowedUsers: over.allowed ?? [],
    log: (level, m) => logs.push(`${level} ${m}`),
    now: () => clock.t,
    backoffBaseMs: 1000,
  });
  return { d, logs };
}

const texts = (s: FakeSlack) => s.messages.map((m) => m.text.split("\n")[0]);

describe("Dispatcher with slack_api", () => {
  test("one thread per thread_key, remembered across restarts; the outbox is never written", async () => {
    slack = startFakeSlack();
    const { file, add } = outbox("slack");
    add("first");
    add("second");
    const before = fs.readFileSync(file, "utf8");
    const clock = { t: Date.now() };
    const backend = () => new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack!.api });
    const r = await dispatcher(backend(), file, clock).d.tick();
    expect(r).toMatchObject({ delivered: 2, failed: 0, pending: 0 });
    expect(fs.readFileSync(file, "utf8")).toBe(before);
    const parent = slack.messages[0]!;
    expect(parent.thread_ts).toBeUndefined();
    expect(slack.messages[1]!.thread_ts).toBe(parent.ts);
    expect(parent.metadata).toEqual({ event_type: "autosentry_message", event_payload: { key: "o0" } });
    // A new dispatcher (a restart) sends nothing twice and keeps the thread.
    add("third");
    const again = await dispatcher(backend(), file, clock).d.tick();
    expect(again.delivered).toBe(1);
    expect(texts(slack)).toEqual(["first", "second", "third"]);
    expect(slack.messages[2]!.thread_ts).toBe(parent.ts);
  });

  test("429 waits what Retry-After says; other lanes are not held up; order within a thread holds", async () => {
    slack = startFakeSlack({
      fault: (m, n): SlackFault | null =>
        m === "chat.postMessage" && n === 2 ? { status: 429, retryAfter: 7 } : null,
    });
    const { file, add } = outbox("slack");
    add("a1");
    add("a2");
    add("a3");
    const clock = { t: Date.now() };
    const { d, logs } = dispatcher(
      new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack.api }),
      file,
      clock,
    );
    const r1 = await d.tick();
    expect(r1).toMatchObject({ delivered: 1, failed: 1, pending: 2 });
    expect(logs.some((l) => l.includes("rate limited (HTTP 429, retry after 7000 ms)"))).toBe(true);
    clock.t += 6000;
    expect((await d.tick()).delivered).toBe(0);
    clock.t += 1000;
    expect((await d.tick()).delivered).toBe(2);
    expect(texts(slack)).toEqual(["a1", "a2", "a3"]);
  });

  test("a 500 after the message was stored: found on the next attempt, not posted twice", async () => {
    slack = startFakeSlack({
      fault: (m, n) => (m === "chat.postMessage" && n === 2 ? { status: 500, afterCommit: true } : null),
    });
    const { file, add } = outbox("slack");
    add("one");
    add("two");
    add("three");
    const clock = { t: Date.now() };
    const { d, logs } = dispatcher(
      new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack.api }),
      file,
      clock,
    );
    expect((await d.tick()).failed).toBe(1);
    clock.t += 60_000;
    const r = await d.tick();
    expect(r).toMatchObject({ delivered: 2, pending: 0 });
    expect(texts(slack)).toEqual(["one", "two", "three"]);
    expect(logs.some((l) => l.includes("o") && l.includes("already delivered before"))).toBe(true);
    expect(slack.requests.filter((q) => q.method === "conversations.replies").length).toBeGreaterThan(0);
  });

  test("a slow answer past the timeout is in doubt and found again", async () => {
    slack = startFakeSlack({
      fault: (m, n) => (m === "chat.postMessage" && n === 1 ? { delayMs: 400 } : null),
    });
    const { file, add } = outbox("slack");
    add("slow");
    const clock = { t: Date.now() };
    const backend = new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack.api, timeoutMs: 100 });
    const { d } = dispatcher(backend, file, clock);
    expect((await d.tick()).failed).toBe(1);
    // The server finishes storing it after the client gave up.
    for (let i = 0; i < 100 && slack.messages.length === 0; i++) await Bun.sleep(50);
    expect(slack.messages).toHaveLength(1);
    clock.t += 60_000;
    expect((await d.tick()).delivered).toBe(1);
    expect(texts(slack)).toEqual(["slow"]);
  });

  test("replies become control records once, acknowledged once; others are ignored and told so", async () => {
    slack = startFakeSlack();
    const { file, add } = outbox("slack");
    add("train.py failed");
    const clock = { t: Date.now() };
    const backend = () => new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack!.api });
    await dispatcher(backend(), file, clock, { allowed: ["UALICE"] }).d.tick();
    const parent = slack.messages[0]!.ts;
    slack.reply("C1", parent, "UALICE", "pause");
    slack.reply("C1", parent, "UALICE", "thanks, looking");
    slack.reply("C1", parent, "UMALLORY", "abort");
    slack.reply("C1", parent, "UALICE", "set max_restarts 3");
    slack.reply("C1", parent, "UALICE", "set lr 3");
    const { d } = dispatcher(backend(), file, clock, { allowed: ["UALICE"] });
    const r = await d.tick();
    expect(r.commands).toBe(5);
    await d.tick(); // delivers the acks queued by the replies
    const control = readJsonl<ChatControlRecord>(paths().control).records;
    expect(control.map((c) => [c.command, c.user, c.args])).toEqual([
      ["pause", "slack:UALICE", []],
      ["set", "slack:UALICE", ["max_restarts", "3"]],
    ]);
    expect(control[0]).toMatchObject({
      source: "chat",
      thread_key: "proj",
      channel: "C1",
      reason: "from the chat thread proj",
    });
    const bot = slack
      .thread(parent)
      .filter((m) => m.user === "UBOT")
      .map((m) => m.text.split("\n")[0]);
    expect(bot).toEqual([
      "train.py failed",
      "⏸ pause from slack:UALICE: the child is being stopped and stays stopped until `resume` (no monitor is running: it applies when one starts)",
      "ignored: slack:UMALLORY is not allowed to command this run (dispatch.allowed_users)",
      "⚙️ set max_restarts 3 from slack:UALICE: applies now (no monitor is running: it applies when one starts)",
      "not understood: set: expected `set max_restarts N` or `set env KEY=VALUE` (got `set lr 3`)",
    ]);
    const journal = readJsonl<Record<string, unknown>>(paths().journal).records;
    expect(journal.map((j) => [j.event, j.user])).toEqual([["chat_command_ignored", "slack:UMALLORY"]]);
    // A restart reads nothing twice.
    const again = dispatcher(backend(), file, clock, { allowed: ["UALICE"] }).d;
    expect((await again.tick()).commands).toBe(0);
    expect(readJsonl(paths().control).records).toHaveLength(2);
  });

  test("a command record is not written twice when the dispatcher crashed before moving its reply cursor", async () => {
    slack = startFakeSlack();
    const { file, add } = outbox("slack");
    add("x");
    const clock = { t: Date.now() };
    const backend = () => new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack!.api });
    await dispatcher(backend(), file, clock).d.tick();
    slack.reply("C1", slack.messages[0]!.ts, "UALICE", "resume");
    await dispatcher(backend(), file, clock).d.tick();
    // Forget the reply cursor, as if the process died right after appending the record.
    const ledgerFile = path.join(tmp, "ledger.jsonl");
    const kept = fs
      .readFileSync(ledgerFile, "utf8")
      .split("\n")
      .filter((l) => !l.includes('"t":"seen"'));
    fs.writeFileSync(ledgerFile, kept.join("\n"));
    await dispatcher(backend(), file, clock).d.tick();
    expect(readJsonl(paths().control).records).toHaveLength(1);
    expect(slack.messages.filter((m) => m.text.startsWith("▶️ resume"))).toHaveLength(1);
  });
});

describe("Dispatcher with discord_bot", () => {
  test("opens a thread on the first message, posts the rest in it, reads replies there", async () => {
    discord = startFakeDiscord({ channels: ["111"] });
    const { file, add } = outbox("discord");
    add("first");
    add("second");
    const clock = { t: Date.now() };
    const backend = () => new DiscordBotBackend({ token: "discord-test-token", baseUrl: discord!.api });
    await dispatcher(backend(), file, clock, { channel: "111" }).d.tick();
    const parent = discord.inChannel("111");
    expect(parent).toHaveLength(1);
    const thread = parent[0]!.id;
    expect(discord.threads.get(thread)).toBe("111");
    expect(discord.inChannel(thread).map((m) => m.content)).toEqual(["second"]);
    expect(parent[0]!.embeds[0]).toMatchObject({ footer: { text: "autosentry · o0" } });
    discord.reply(thread, "42", "status");
    const { d } = dispatcher(backend(), file, clock, { channel: "111" });
    expect((await d.tick()).commands).toBe(1);
    await d.tick();
    const last = discord.inChannel(thread).at(-1)!;
    expect(last.author.id).toBe("900000000000000001");
    expect(last.content).toBe("status: no run yet (no state.json)");
    expect(readJsonl<ChatControlRecord>(paths().control).records.map((c) => [c.command, c.user])).toEqual([
      ["status", "discord:42"],
    ]);
  });

  test("a crash after the thread's first message: the thread is started again without a duplicate", async () => {
    discord = startFakeDiscord({
      channels: ["111"],
      fault: (route, n) =>
        route === "POST /channels/{id}/messages/{mid}/threads" && n === 1 ? { status: 500 } : null,
    });
    const { file, add } = outbox("discord");
    add("first");
    add("second");
    const clock = { t: Date.now() };
    const { d } = dispatcher(
      new DiscordBotBackend({ token: "discord-test-token", baseUrl: discord.api }),
      file,
      clock,
      {
        channel: "111",
      },
    );
    await d.tick();
    await d.tick();
    expect(discord.inChannel("111").map((m) => m.content)).toEqual(["first"]);
    const thread = discord.inChannel("111")[0]!.id;
    expect(discord.inChannel(thread).map((m) => m.content)).toEqual(["second"]);
  });
});

describe("webhook backends", () => {
  test("slack_webhook posts text and blocks; discord_webhook opens forum posts and uses thread_id", async () => {
    const seen: unknown[] = [];
    const hook = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        seen.push(await req.json());
        return new Response("ok");
      },
    });
    try {
      const { file, add } = outbox("slack");
      add("hello", {
        detail: {
          what: "CUDA out of memory",
          subject: "train.py",
          action: "restarted",
          restart: 1,
          max_restarts: 5,
        },
      });
      await dispatcher(new SlackWebhookBackend(`http://127.0.0.1:${hook.port}/services/x`), file, {
        t: Date.now(),
      }).d.tick();
      expect(seen).toHaveLength(1);
      expect((seen[0] as { text: string }).text.split("\n")[0]).toBe(
        "train.py: CUDA out of memory → restarted; restart 1/5",
      );
      expect((seen[0] as { blocks: unknown[] }).blocks.length).toBeGreaterThan(0);
    } finally {
      await hook.stop(true);
    }
    fs.rmSync(path.join(tmp, "ledger.jsonl")); // another outbox: its own ledger
    discord = startFakeDiscord({ forums: ["222"], webhooks: { "7/tok": "222" } });
    const d = outbox("discord");
    d.add("one");
    d.add("two");
    await dispatcher(new DiscordWebhookBackend(`${discord.url}/api/v10/webhooks/7/tok`, true), d.file, {
      t: Date.now(),
    }).d.tick();
    const threadIds = [...discord.threads.keys()];
    expect(threadIds).toHaveLength(1);
    expect(discord.inChannel(threadIds[0]!).map((m) => m.content)).toEqual(["one", "two"]);
  });
});

describe("reading", () => {
  test("the reply cursor moves past the bot's own messages, so a long thread is not listed again", async () => {
    slack = startFakeSlack();
    const { file, add } = outbox("slack");
    for (let i = 0; i < 5; i++) add(`m${i}`);
    const clock = { t: Date.now() };
    const backend = new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack.api });
    const { d } = dispatcher(backend, file, clock);
    await d.tick();
    await d.tick();
    const ledger = new Ledger(path.join(tmp, "ledger.jsonl"));
    expect(ledger.state.seen.get("proj")).toBe(slack.messages.at(-1)!.ts);
  });

  test("a truncated outbox is reported and not re-sent; lines appended after it are delivered", async () => {
    slack = startFakeSlack();
    const { file, add } = outbox("slack");
    add("before-1");
    add("before-2");
    const clock = { t: Date.now() };
    const backend = new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack.api });
    const { d, logs } = dispatcher(backend, file, clock);
    await d.tick();
    fs.writeFileSync(file, "");
    await d.tick();
    expect(
      logs.some((l) => l.startsWith("ERROR outbox") && l.includes("shorter than what was already delivered")),
    ).toBe(true);
    add("after");
    await d.tick();
    expect(texts(slack)).toEqual(["before-1", "before-2", "after"]);
  });
});

describe("failures", () => {
  test("a setup error (bad token) gives nothing up; a message the service refuses is given up after 5 tries", async () => {
    slack = startFakeSlack({ token: "xoxb-right" });
    const { file, add } = outbox("slack");
    add("one");
    add("two");
    const clock = { t: Date.now() };
    const wrong = dispatcher(new SlackApiBackend({ token: "xoxb-wrong", baseUrl: slack.api }), file, clock);
    for (let i = 0; i < 8; i++) {
      await wrong.d.tick();
      clock.t += 600_000;
    }
    expect(wrong.d.pending).toBe(2);
    expect(
      wrong.logs.filter((l) => l.includes("slack chat.postMessage: invalid_auth — fix the token")).length,
    ).toBe(8);
    // Fixed token, restarted dispatcher: both go out.
    const right = dispatcher(new SlackApiBackend({ token: "xoxb-right", baseUrl: slack.api }), file, clock);
    expect((await right.d.tick()).delivered).toBe(2);

    const refuse = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response(JSON.stringify({ message: "Invalid Form Body", code: 50035 }), { status: 400 }),
    });
    try {
      fs.rmSync(path.join(tmp, "ledger.jsonl"));
      const d = outbox("discord");
      d.add("too odd");
      d.add("fine");
      const bad = dispatcher(
        new DiscordWebhookBackend(`http://127.0.0.1:${refuse.port}/api/webhooks/1/x`),
        d.file,
        clock,
      );
      for (let i = 0; i < 5; i++) {
        await bad.d.tick();
        clock.t += 600_000;
      }
      expect(bad.logs.filter((l) => l.startsWith("ERROR gave up on o0"))).toHaveLength(1);
      expect(bad.logs.filter((l) => l.startsWith("ERROR gave up on"))).toHaveLength(1);
    } finally {
      await refuse.stop(true);
    }
  });
});
