/**
 * Exactly once, under stress: 10,000 notifications are appended (by the monitor's append code,
 * in another process) while `autosentry dispatcher run` drains them to the fake Slack API and is
 * SIGKILLed and restarted five times; the fake also answers some posts with a 500 *after* storing
 * the message and rate-limits a few with 429 + Retry-After. Every message must arrive exactly
 * once, and in order within its thread.
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { type FakeSlack, type SlackFault, startFakeSlack } from "../fakes/slack.ts";
import { makeProject, REPO, run, start, testEnv, waitFor } from "./helpers.ts";

let slack: FakeSlack | null = null;
afterEach(async () => {
  await slack?.close();
  slack = null;
});

const COUNT = 10_000;
const THREADS = 4;
const KILLS = 5;

/** The outbox's files, oldest first: rotated ones (highest number first), then the outbox. */
function outboxFiles(outbox: string): string[] {
  const base = path.basename(outbox);
  const nums = fs
    .readdirSync(path.dirname(outbox))
    .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : Number.NaN))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => b - a);
  return [...nums.map((n) => `${outbox}.${n}`), ...(fs.existsSync(outbox) ? [outbox] : [])];
}

describe("dispatcher: exactly once", () => {
  test("10,000 messages, five SIGKILLs, 500s after commit and 429s: each delivered once, in order per thread", async () => {
    await stress(null);
  }, 600_000);

  test("the same while the outbox is rotated every 64 KB: each delivered once, in order per thread", async () => {
    await stress(64 * 1024);
  }, 600_000);
});

async function stress(rotateBytes: number | null): Promise<void> {
  {
    slack = startFakeSlack({
      fault: (method, n): SlackFault | null => {
        if (method !== "chat.postMessage") return null;
        if (n % 397 === 0) return { status: 500, afterCommit: true };
        if (n % 1009 === 0) return { status: 429, retryAfter: 1 };
        return null;
      },
    });
    const dir = makeProject(
      {},
      `process:
  command: [sh, -c, "true"]
notifiers:
  - { kind: slack_outbox, channel: C0STRESS }
dispatch:
  poll_seconds: 0.2
`,
    );
    const outbox = path.join(dir, ".autosentry", "slack_outbox.jsonl");
    const env = testEnv({ SLACK_BOT_TOKEN: "xoxb-test-token", AUTOSENTRY_SLACK_API_URL: slack.api });
    const writer = Bun.spawn(
      [
        process.execPath,
        path.join(REPO, "tests/fixtures/dispatch/outbox-writer.ts"),
        outbox,
        String(COUNT),
        String(THREADS),
        "100",
        "40",
        ...(rotateBytes === null ? [] : [String(rotateBytes)]),
      ],
      { cwd: dir, stdout: "pipe", stderr: "pipe" },
    );
    const delivered = () => slack!.messages.filter((m) => m.metadata).length;
    let killed = 0;
    let logs = "";
    for (let k = 1; k <= KILLS; k++) {
      const d = start(["dispatcher", "run"], { cwd: dir, env });
      const target = Math.min(COUNT - 500, delivered() + 1200 + k * 97);
      await waitFor(`${target} messages delivered before kill ${k}`, () => delivered() >= target, 120_000);
      d.proc.kill("SIGKILL");
      const r = await d.wait();
      expect(r.code).not.toBe(0);
      logs += r.stderr;
      killed++;
    }
    expect(killed).toBe(KILLS);
    // The 500s that came after the message was stored were resolved by looking, not by re-posting.
    expect(logs).toContain("already delivered before");
    expect(await writer.exited).toBe(0);
    const last = start(["dispatcher", "run"], { cwd: dir, env });
    await waitFor("every message delivered", () => delivered() >= COUNT, 180_000);
    // Let the last dispatcher look once more: nothing may be left or be sent twice.
    const pending = await waitFor("nothing pending", async () => {
      const r = await run(["dispatcher", "pending", "--json"], { cwd: dir, env });
      const j = JSON.parse(r.stdout) as { pending: unknown[] };
      return j.pending.length === 0 ? j : null;
    });
    expect(pending.pending).toEqual([]);
    last.proc.kill("SIGTERM");
    expect((await last.wait()).code).toBe(0);

    // Exactly once: one Slack message per outbox line, keyed by the line's position (its byte
    // offset, going on across rotated files, oldest first).
    const files = outboxFiles(outbox);
    if (rotateBytes !== null) expect(files.length).toBeGreaterThan(10);
    else expect(files).toEqual([outbox]);
    const lines = files.flatMap((f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean));
    expect(lines).toHaveLength(COUNT);
    const offsets: number[] = [];
    let off = 0;
    for (const l of lines) {
      offsets.push(off);
      off += Buffer.byteLength(l) + 1;
    }
    const keys = slack.messages.filter((m) => m.metadata).map((m) => String(m.metadata!.event_payload.key));
    expect(keys.length).toBe(COUNT);
    expect(new Set(keys).size).toBe(COUNT);
    expect([...keys].sort()).toEqual(offsets.map((o) => `o${o}`).sort());

    // In order per thread, and each thread in one Slack thread.
    for (let t = 0; t < THREADS; t++) {
      const titles = slack.messages
        .filter((m) => m.text.startsWith(`t${t} #`))
        .map((m) => m.text.split("\n")[0]!);
      const expected = Array.from({ length: COUNT / THREADS }, (_, j) => `t${t} #${j * THREADS + t}`);
      expect(titles).toEqual(expected);
      const inThread = slack.messages.filter((m) => m.text.startsWith(`t${t} #`));
      const parentTs = inThread[0]!.ts;
      expect(inThread[0]!.thread_ts).toBeUndefined();
      expect(inThread.slice(1).every((m) => m.thread_ts === parentTs)).toBe(true);
    }
    // The faults really happened.
    expect(slack.requests.filter((r) => r.method === "chat.postMessage").length).toBeGreaterThan(COUNT);
  }
}
