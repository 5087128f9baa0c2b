import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NotifierSpec } from "../config/schema.ts";
import type { Notification } from "../core/types.ts";
import { readJsonl } from "../util/jsonl.ts";
import { MemoryLogger } from "../util/logger.ts";
import { buildFanout, buildNotifiers } from "./build.ts";
import { Fanout, FilteredNotifier } from "./fanout.ts";
import { FoldingNotifier } from "./fold.ts";
import { LogNotifier } from "./log.ts";
import { type OutboxLine, OutboxNotifier } from "./outbox.ts";
import type { Notifier } from "./types.ts";
import { WebhookNotifier } from "./webhook.ts";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-notify-"));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const note = (kind: Notification["kind"], over: Partial<Notification> = {}): Notification => ({
  kind,
  title: `${kind} title`,
  body: `${kind} body`,
  incident_id: null,
  ...over,
});

describe("LogNotifier", () => {
  test("logs title — body (incident) at a level chosen by kind", () => {
    const logger = new MemoryLogger();
    const n = new LogNotifier(logger);
    n.notify(note("anomaly", { incident_id: "inc-1" }));
    n.notify(note("recovery"));
    n.notify(note("start"));
    n.notify(note("exit", { body: "" }));
    expect(logger.lines).toEqual([
      "[ANOMALY] anomaly title — anomaly body (incident: inc-1)",
      "[RECOVERY] recovery title — recovery body",
      "[INFO] start title — start body",
      "[INFO] exit title",
    ]);
  });
});

describe("OutboxNotifier", () => {
  test("appends the Python outbox line shape with increasing ids", () => {
    const file = path.join(tmp, "sub", "outbox.jsonl");
    const logger = new MemoryLogger();
    const n = new OutboxNotifier({
      platform: "slack",
      path: file,
      channel: "C123",
      threadKey: "run-7",
      logger,
      now: () => 1767225600123.25,
    });
    n.notify(note("anomaly", { incident_id: "inc-1" }));
    n.notify(note("exit"));
    const lines = readJsonl<OutboxLine>(file).records;
    expect(lines[0]).toEqual({
      id: "1767225600.123250",
      channel: "C123",
      thread_key: "run-7",
      kind: "anomaly",
      title: "anomaly title",
      body: "anomaly body",
      incident_id: "inc-1",
      sent: false,
    });
    expect(lines[1]!.id).toBe("1767225600.123251");
    expect(Object.keys(lines[0]!)).toEqual([
      "id",
      "channel",
      "thread_key",
      "kind",
      "title",
      "body",
      "incident_id",
      "sent",
    ]);
    expect(logger.lines).toEqual([
      "[SLACK] [slack] queued [anomaly] anomaly title",
      "[SLACK] [slack] queued [exit] exit title",
    ]);
  });

  test("a write failure is logged, not thrown", () => {
    const blocker = path.join(tmp, "file");
    fs.writeFileSync(blocker, "");
    const logger = new MemoryLogger();
    new OutboxNotifier({ platform: "discord", path: path.join(blocker, "o.jsonl"), logger }).notify(
      note("exit"),
    );
    expect(logger.lines.length).toBe(1);
    expect(logger.lines[0]).toStartWith("[ERROR] discord_outbox: cannot append to ");
  });
});

/** A notifier that records what reaches it, or throws (against the seam) when told to. */
class Recorder implements Notifier {
  readonly got: string[] = [];
  closedWith: number | null = null;
  constructor(
    readonly name: string,
    private readonly explode = false,
  ) {}
  notify(n: Notification): void {
    if (this.explode) throw new Error("boom");
    this.got.push(n.kind);
  }
  async close(timeoutMs: number): Promise<void> {
    this.closedWith = timeoutMs;
  }
}

describe("Fanout and FilteredNotifier", () => {
  test("forwards to every notifier, honours filters, survives a throwing one", async () => {
    const all = new Recorder("all");
    const some = new Recorder("some");
    const bad = new Recorder("bad", true);
    const logger = new MemoryLogger();
    const f = new Fanout([bad, all, new FilteredNotifier(some, ["anomaly", "exit"])], logger);
    for (const k of ["start", "anomaly", "recovery", "exit"] as const) f.notify(note(k));
    expect(all.got).toEqual(["start", "anomaly", "recovery", "exit"]);
    expect(some.got).toEqual(["anomaly", "exit"]);
    expect(logger.lines.filter((l) => l === "[ERROR] notifier bad failed: boom").length).toBe(4);
    await f.close(1234);
    expect([all.closedWith, some.closedWith]).toEqual([1234, 1234]);
  });
});

describe("buildNotifiers", () => {
  const specs = (raw: unknown[]) => raw.map((r) => NotifierSpec.parse(r));

  test("builds each kind; outbox paths resolve against the root; discord has its own default", () => {
    const logger = new MemoryLogger();
    const built = buildNotifiers(
      specs([
        { kind: "log" },
        { kind: "slack_outbox" },
        { kind: "discord_outbox", channel: "42" },
        { kind: "slack_outbox", outbox_path: "custom/out.jsonl", events: ["exit"] },
        { kind: "webhook", url: "http://127.0.0.1:9/hook" },
      ]),
      { logger, project: "demo", root: tmp },
    );
    expect(built.map((n) => n.name)).toEqual([
      "log",
      "slack_outbox",
      "discord_outbox",
      "slack_outbox",
      "webhook",
    ]);
    expect(built[0]).toBeInstanceOf(LogNotifier);
    expect(built[3]).toBeInstanceOf(FilteredNotifier);
    // Notifiers that reach people fold repeats (fold_window_seconds defaults to 600).
    expect(built[4]).toBeInstanceOf(FoldingNotifier);
    expect((built[4] as FoldingNotifier).inner).toBeInstanceOf(WebhookNotifier);

    const f = new Fanout(built.slice(0, 4), logger);
    f.notify(note("anomaly"));
    f.notify(note("exit"));
    const read = (rel: string) => readJsonl<OutboxLine>(path.join(tmp, rel)).records.map((r) => r.kind);
    expect(read(".autosentry/slack_outbox.jsonl")).toEqual(["anomaly", "exit"]);
    expect(read(".autosentry/discord_outbox.jsonl")).toEqual(["anomaly", "exit"]);
    expect(
      readJsonl<OutboxLine>(path.join(tmp, ".autosentry/discord_outbox.jsonl")).records[0]!.channel,
    ).toBe("42");
    expect(read("custom/out.jsonl")).toEqual(["exit"]);
  });

  test("the redactor sees title and body before any notifier; a failing one withholds the text", () => {
    const logger = new MemoryLogger();
    const [n] = buildNotifiers(specs([{ kind: "log" }]), {
      logger,
      project: "demo",
      redact: (t) => {
        if (t.includes("explode")) throw new Error("bad");
        return t.replaceAll("pw123", "[REDACTED]");
      },
    });
    n!.notify(note("anomaly", { title: "login pw123", body: "password=pw123" }));
    n!.notify(note("anomaly", { title: "explode pw123", body: "pw123" }));
    expect(logger.lines).toEqual([
      "[ANOMALY] login [REDACTED] — password=[REDACTED]",
      "[ANOMALY] [notification withheld: redaction failed]",
    ]);
  });

  test("buildFanout wraps them all", async () => {
    const logger = new MemoryLogger();
    const f = buildFanout(specs([{ kind: "log", events: ["recovery"] }]), { logger, project: "demo" });
    f.notify(note("anomaly"));
    f.notify(note("recovery"));
    await f.close(10);
    expect(logger.lines).toEqual(["[RECOVERY] recovery title — recovery body"]);
  });
});
