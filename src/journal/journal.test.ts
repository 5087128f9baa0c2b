import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readJsonl } from "../util/jsonl.ts";
import { Journal } from "./journal.ts";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-journal-"));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("Journal", () => {
  test("appends one envelope line per event, creating the directory", () => {
    const file = path.join(tmp, "logs", "events.jsonl");
    const t = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const j = new Journal(file, { runId: "abc123", now: () => t });
    j.write("monitor_started");
    j.write("incident", {
      incident_id: "x",
      detector: "oom",
      action: "restart",
      source: "rule",
      skipped: undefined,
    });
    const staged = new Journal(file, { runId: "abc123", stage: "train", now: () => t });
    staged.write("child_exited", { exit_code: 1 });

    const text = fs.readFileSync(file, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(text.trim().split("\n").length).toBe(3);
    expect(readJsonl(file).records).toEqual([
      {
        schema_version: 1,
        time: "2026-01-02T03:04:05.678Z",
        run_id: "abc123",
        stage: null,
        event: "monitor_started",
      },
      {
        schema_version: 1,
        time: "2026-01-02T03:04:05.678Z",
        run_id: "abc123",
        stage: null,
        event: "incident",
        incident_id: "x",
        detector: "oom",
        action: "restart",
        source: "rule",
      },
      {
        schema_version: 1,
        time: "2026-01-02T03:04:05.678Z",
        run_id: "abc123",
        stage: "train",
        event: "child_exited",
        exit_code: 1,
      },
    ]);
    expect(j.errors).toBe(0);
  });

  test("details cannot overwrite the envelope", () => {
    const file = path.join(tmp, "events.jsonl");
    new Journal(file, { runId: "r" }).write("detection", { event: "forged", run_id: "other", message: "m" });
    expect(readJsonl(file).records[0]).toMatchObject({ event: "detection", run_id: "r", message: "m" });
  });

  test("a failing write is counted and reported once, never thrown", () => {
    const blocker = path.join(tmp, "not-a-dir");
    fs.writeFileSync(blocker, "");
    const messages: string[] = [];
    const j = new Journal(path.join(blocker, "events.jsonl"), {
      runId: "r",
      onError: (m) => messages.push(m),
    });
    j.write("monitor_started");
    j.write("monitor_stopped", { exit_code: 0 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const k = new Journal(path.join(tmp, "ok.jsonl"), { runId: "r" });
    k.write("detection", cyclic);
    expect(k.errors).toBe(1);
    expect(j.errors).toBe(2);
    expect(messages.length).toBe(1);
    expect(messages[0]).toStartWith(`Cannot write journal ${blocker}/events.jsonl: `);
  });

  test("listeners see each record after it is written; a throwing listener is reported and skipped", () => {
    const file = path.join(tmp, "events.jsonl");
    const messages: string[] = [];
    const j = new Journal(file, { runId: "r", onError: (m) => messages.push(m) });
    const seen: string[] = [];
    j.listen(() => {
      throw new Error("boom");
    });
    const stop = j.listen((rec) => {
      // The line is already on disk when a listener runs.
      seen.push(`${rec.event}:${readJsonl(file).records.length}:${String(rec.incident_id ?? "")}`);
    });
    j.write("incident", { incident_id: "a" });
    stop();
    j.write("monitor_stopped");
    expect(seen).toEqual(["incident:1:a"]);
    expect(messages).toEqual([
      "A journal listener failed on incident: boom",
      "A journal listener failed on monitor_stopped: boom",
    ]);
    expect(readJsonl(file).records.map((r) => r.event)).toEqual(["incident", "monitor_stopped"]);
  });
});
