import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compareIds, Ledger } from "./ledger.ts";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "as-ledger-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("Ledger", () => {
  test("replays intents, sends, failures, threads and cursors", () => {
    const file = path.join(tmp, "l.jsonl");
    const a = new Ledger(file);
    a.intent("o0", 1000);
    a.sent("o0", "1.000001", { tk: "run", th: "1.000001", ch: "C1", ready: true });
    a.intent("o50", 2000);
    a.fail("o50", 1, "slack chat.postMessage: HTTP 500", true, 9000, false);
    a.intent("o90", 3000);
    a.seen("run", "1.000009");
    a.cursor(50);
    const b = new Ledger(file);
    expect(b.state.cursor).toBe(50);
    expect(b.state.done.has("o0")).toBe(false); // before the cursor: forgotten
    expect(b.state.threads.get("run")).toEqual({ ref: "1.000001", channel: "C1", ready: true });
    expect(b.state.attempts.get("o50")).toEqual({
      n: 1,
      next: 9000,
      inDoubt: true,
      firstAt: 2000,
      err: "slack chat.postMessage: HTTP 500",
    });
    // Crashed between intent and outcome: in doubt.
    expect(b.state.attempts.get("o90")?.inDoubt).toBe(true);
    expect(b.state.seen.get("run")).toBe("1.000009");
  });

  test("a torn last line is skipped; a permanent failure marks the message dead", () => {
    const file = path.join(tmp, "l.jsonl");
    const a = new Ledger(file);
    a.fail("o0", 5, "channel_not_found", false, 0, true);
    fs.appendFileSync(file, '{"t":"sent","k":"o9');
    const b = new Ledger(file);
    expect(b.state.done.get("o0")).toBeNull();
    expect(b.state.dead.get("o0")).toBe("channel_not_found");
    expect(b.state.done.has("o9")).toBe(false);
  });

  test("compaction keeps the state in one snapshot line", () => {
    const file = path.join(tmp, "l.jsonl");
    const a = new Ledger(file);
    for (let i = 0; i < 30; i++) {
      a.intent(`o${i * 10}`, i);
      a.sent(`o${i * 10}`, `id${i}`);
    }
    a.cursor(200);
    a.ack({ k: "ack:run|5", tk: "run", ch: "C1", text: "ok", reply: "5" });
    expect(a.compact(10)).toBe(true);
    expect(fs.readFileSync(file, "utf8").trim().split("\n")).toHaveLength(1);
    const b = new Ledger(file);
    expect(b.state.cursor).toBe(200);
    expect([...b.state.done.keys()]).toEqual([
      "o200",
      "o210",
      "o220",
      "o230",
      "o240",
      "o250",
      "o260",
      "o270",
      "o280",
      "o290",
    ]);
    expect([...b.state.acks.keys()]).toEqual(["ack:run|5"]);
  });

  test("compareIds orders Slack ts and Discord snowflakes numerically", () => {
    expect(compareIds("1700000000.000100", "1700000000.000099")).toBeGreaterThan(0);
    expect(compareIds("99999999999999999", "100000000000000000")).toBeLessThan(0);
  });
});
