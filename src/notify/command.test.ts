import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MemoryLogger } from "../util/logger.ts";
import { CommandNotifier } from "./command.ts";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "as-cmdnotify-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("CommandNotifier", () => {
  test("runs the argv with the notification JSON on stdin, one at a time in order", async () => {
    const out = path.join(tmp, "got.jsonl");
    const logger = new MemoryLogger();
    const n = new CommandNotifier({
      argv: ["sh", "-c", `cat >> ${out}`],
      timeoutMs: 10_000,
      logger,
      project: "demo",
      host: "box",
      publicUrl: "http://viewer",
    });
    n.notify({ kind: "anomaly", title: "one", body: "b", incident_id: "i1" });
    n.notify({ kind: "exit", title: "two", body: "", incident_id: null });
    await n.close(10_000);
    const got = fs
      .readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(got.map((g) => [g.kind, g.title, g.project, g.host, g.url])).toEqual([
      ["anomaly", "one", "demo", "box", "http://viewer/incidents/i1"],
      ["exit", "two", "demo", "box", null],
    ]);
    expect(logger.lines).toEqual([]);
  });

  test("a failing, missing or hanging program is logged and never thrown", async () => {
    const logger = new MemoryLogger();
    const bad = new CommandNotifier({
      argv: ["sh", "-c", "echo nope >&2; exit 3"],
      timeoutMs: 5000,
      logger,
      project: "p",
    });
    bad.notify({ kind: "exit", title: "x", body: "", incident_id: null });
    await bad.close(10_000);
    const missing = new CommandNotifier({
      argv: ["/nonexistent/notify-me"],
      timeoutMs: 5000,
      logger,
      project: "p",
    });
    missing.notify({ kind: "exit", title: "x", body: "", incident_id: null });
    await missing.close(10_000);
    const slow = new CommandNotifier({ argv: ["sleep", "30"], timeoutMs: 200, logger, project: "p" });
    slow.notify({ kind: "exit", title: "x", body: "", incident_id: null });
    await slow.close(10_000);
    expect(logger.lines[0]).toBe("[ERROR] command notifier: sh exited 3: nope");
    expect(logger.lines[1]).toStartWith("[ERROR] command notifier: ");
    expect(logger.lines[1]).toContain("/nonexistent/notify-me");
    expect(logger.lines[2]).toBe("[ERROR] command notifier: sleep did not finish within 200 ms");
  });
});
