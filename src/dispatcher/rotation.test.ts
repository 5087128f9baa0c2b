/**
 * The outbox rotated by its writer (notify/outbox.ts) is followed by the dispatcher across files,
 * also while it is down; given-up messages are delivered again after `dispatcher retry`'s request.
 * Real files, a real notifier, the fake Slack API and a loopback Discord webhook.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type FakeSlack, startFakeSlack } from "../../tests/fakes/slack.ts";
import type { MonitorPaths } from "../monitor/paths.ts";
import { OutboxNotifier } from "../notify/outbox.ts";
import { MemoryLogger } from "../util/logger.ts";
import { SlackApiBackend } from "./backends/slack-api.ts";
import { DiscordWebhookBackend } from "./backends/webhooks.ts";
import { FileControlSink } from "./control-sink.ts";
import { Dispatcher } from "./dispatcher.ts";
import { Ledger } from "./ledger.ts";
import { readOutboxStream, rotatedOutboxes } from "./outbox-reader.ts";
import { requestRetries } from "./retry-requests.ts";
import type { Backend } from "./types.ts";

let tmp: string;
let slack: FakeSlack | null = null;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "as-rotate-"));
});
afterEach(async () => {
  await slack?.close();
  slack = null;
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

/** An outbox notifier rotating at `maxBytes` (a line is ~200 bytes) keeping `backups` files. */
function outbox(maxBytes: number, backups: number, platform: "slack" | "discord" = "slack") {
  const file = path.join(tmp, `${platform}_outbox.jsonl`);
  const n = new OutboxNotifier({
    platform,
    path: file,
    threadKey: "proj",
    logger: new MemoryLogger(),
    maxBytes,
    backups,
  });
  const add = (title: string) => n.notify({ kind: "anomaly", title, body: "", incident_id: null });
  return { file, add };
}

function dispatcher(backend: Backend, file: string, clock = { t: Date.now() }, batch?: number) {
  const logs: string[] = [];
  const d = new Dispatcher({
    backend,
    ledger: new Ledger(path.join(tmp, "ledger.jsonl")),
    outboxPath: file,
    defaultChannel: "C1",
    control: new FileControlSink(paths()),
    allowedUsers: [],
    log: (level, m) => logs.push(`${level} ${m}`),
    now: () => clock.t,
    backoffBaseMs: 1000,
    retryRequests: path.join(tmp, "retry.jsonl"),
    ...(batch !== undefined ? { batch } : {}),
  });
  return { d, logs };
}

const texts = (s: FakeSlack) => s.messages.map((m) => m.text.split("\n")[0]);

describe("a rotated outbox", () => {
  test("is rotated by size like the logs, in the same line format", () => {
    const { file, add } = outbox(1000, 2);
    for (let i = 0; i < 40; i++) add(`m${i}`);
    expect(rotatedOutboxes(file)).toEqual([`${file}.1`, `${file}.2`]);
    for (const f of [file, `${file}.1`, `${file}.2`].filter((x) => fs.existsSync(x))) {
      expect(fs.statSync(f).size).toBeLessThan(1000 + 400);
      for (const l of fs.readFileSync(f, "utf8").trimEnd().split("\n"))
        expect(JSON.parse(l)).toMatchObject({ kind: "anomaly", sent: false, thread_key: "proj" });
    }
  });

  test("is followed across rotations, while running and while down: every message once, in order", async () => {
    slack = startFakeSlack();
    const backend = () => new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack!.api });
    const { file, add } = outbox(1000, 5);
    const want: string[] = [];
    const put = (n: number) => {
      for (let i = 0; i < n; i++) {
        const t = `m${want.length}`;
        want.push(t);
        add(t);
      }
    };
    put(3);
    let { d } = dispatcher(backend(), file);
    await d.tick();
    put(12); // several rotations between two ticks
    await d.tick();
    expect(texts(slack)).toEqual(want);
    // Down (a new dispatcher from the ledger later): more rotations meanwhile.
    put(15);
    ({ d } = dispatcher(backend(), file));
    await d.tick();
    put(2);
    await d.tick();
    expect(texts(slack)).toEqual(want);
    expect(rotatedOutboxes(file).length).toBeGreaterThan(1);
  });

  test("a dispatcher restarted with its cursor in an older file reads on from there, not from the newest file", async () => {
    slack = startFakeSlack();
    const backend = () => new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack!.api });
    const { file, add } = outbox(1000, 20);
    const want = Array.from({ length: 30 }, (_, i) => `m${i}`);
    for (const t of want) add(t);
    // five messages per pass: the reader is files ahead of the cursor when it stops
    for (let pass = 0; pass < 12; pass++) await dispatcher(backend(), file, undefined, 5).d.tick();
    expect(texts(slack)).toEqual(want);
  });

  test("a file rotated away before it was read is said; later lines go out, nothing twice", async () => {
    slack = startFakeSlack();
    const backend = () => new SlackApiBackend({ token: "xoxb-test-token", baseUrl: slack!.api });
    const { file, add } = outbox(1000, 1);
    add("first");
    let { d } = dispatcher(backend(), file);
    await d.tick();
    for (let i = 0; i < 30; i++) add(`lost-or-not ${i}`);
    add("last");
    const r = dispatcher(backend(), file);
    d = r.d;
    await d.tick();
    expect(r.logs.some((l) => l.startsWith("ERROR outbox") && l.includes("rotated away"))).toBe(true);
    const got = texts(slack);
    expect(got[0]).toBe("first");
    expect(got.at(-1)).toBe("last");
    expect(new Set(got).size).toBe(got.length);
  });

  test("positions go on across files, so keys never repeat; a reader that never saw the outbox starts at the oldest file", () => {
    const { file, add } = outbox(1000, 5);
    for (let i = 0; i < 30; i++) add(`m${i}`);
    const all = readOutboxStream(file, { base: 0, file: null }, 0);
    const kept = all.entries.map((e) => e.line.title);
    expect(kept).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`).slice(30 - kept.length));
    expect(kept.length).toBeGreaterThan(10);
    const offs = all.entries.map((e) => e.off);
    expect(offs).toEqual([...offs].sort((a, b) => a - b));
    expect(new Set(offs).size).toBe(offs.length);
    // the same reader going on later finds nothing twice
    add("m30");
    const more = readOutboxStream(file, all.seg, all.next);
    expect(more.entries.map((e) => e.line.title)).toEqual(["m30"]);
    expect(more.entries[0]!.off).toBeGreaterThan(offs.at(-1)!);
  });
});

describe("dispatcher retry", () => {
  test("a given-up message is delivered again after a retry request, also across a restart", async () => {
    let refusing = true;
    const posted: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const body = (await req.json()) as { content?: string };
        const first = String(body.content ?? "").split("\n")[0] ?? "";
        if (refusing && first.includes("odd"))
          return new Response(JSON.stringify({ message: "Invalid Form Body", code: 50035 }), { status: 400 });
        posted.push(first);
        return Response.json({ id: String(1000 + posted.length), channel_id: "9" });
      },
    });
    try {
      const backend = () => new DiscordWebhookBackend(`http://127.0.0.1:${server.port}/api/webhooks/1/x`);
      const { file, add } = outbox(1_000_000, 3, "discord");
      const clock = { t: Date.now() };
      add("too odd");
      add("fine");
      let r = dispatcher(backend(), file, clock);
      for (let i = 0; i < 6; i++) {
        await r.d.tick();
        clock.t += 600_000;
      }
      expect(r.logs.filter((l) => l.startsWith("ERROR gave up on o0"))).toHaveLength(1);
      expect(posted).toEqual(["fine"]);
      const ledger = new Ledger(path.join(tmp, "ledger.jsonl"));
      expect([...ledger.state.dead.keys()]).toEqual(["o0"]);
      expect(ledger.state.cursor).toBeGreaterThan(0); // the cursor passed it: still retryable

      // Asked again (the service accepts it now); the dispatcher restarts before delivering it.
      refusing = false;
      requestRetries(path.join(tmp, "retry.jsonl"), ["o0", "o999"]);
      server.stop(); // not reachable: the retried message fails once, stays queued
      r = dispatcher(backend(), file, clock);
      await r.d.tick();
      expect(fs.existsSync(path.join(tmp, "retry.jsonl"))).toBe(false);
      expect(r.logs.some((l) => l.includes("o0: given up before; delivering it again"))).toBe(true);
      expect(r.logs.some((l) => l.includes("o999"))).toBe(false); // not given up: ignored
    } finally {
      server.stop(true);
    }
    // Back up on a new port: a new dispatcher from the ledger delivers it (the retry is recorded).
    const again = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const body = (await req.json()) as { content?: string };
        posted.push(String(body.content ?? "").split("\n")[0] ?? "");
        return Response.json({ id: String(2000 + posted.length), channel_id: "9" });
      },
    });
    try {
      const { file } = outbox(1_000_000, 3, "discord");
      const r = dispatcher(
        new DiscordWebhookBackend(`http://127.0.0.1:${again.port}/api/webhooks/1/x`),
        file,
        { t: Date.now() + 3_600_000 },
      );
      await r.d.tick();
      expect(posted).toEqual(["fine", "too odd"]);
      const ledger = new Ledger(path.join(tmp, "ledger.jsonl"));
      expect(ledger.state.dead.size).toBe(0);
      expect(ledger.state.retry.size).toBe(0);
      await r.d.tick();
      expect(posted).toEqual(["fine", "too odd"]);
    } finally {
      again.stop(true);
    }
  });
});
