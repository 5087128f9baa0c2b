import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Action } from "../core/types.ts";
import {
  actionProblem,
  appendSessionAction,
  drainSessionActions,
  isActionId,
  newActionId,
  readCursor,
} from "./queue.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function paths() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-queue-"));
  dirs.push(dir);
  return { queue: path.join(dir, "session_actions.jsonl"), cursor: path.join(dir, "session_action_cursor") };
}

const restart: Action = { kind: "restart", set: {}, command: [], notify: true };

describe("session action queue", () => {
  test("ids are 20 digits of epoch ns and 8 hex digits, increasing", () => {
    const ids = Array.from({ length: 50 }, () => newActionId());
    for (const id of ids) expect(isActionId(id)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
    expect(Number(ids[0]!.slice(0, 13)) / 1e3).toBeGreaterThan(Date.now() / 1e6 - 1000);
  });

  test("append writes the Python tool's line shape; drain returns it once, after commit never again", () => {
    const p = paths();
    const a = appendSessionAction(p.queue, {
      incident_id: "20261122-030405-error-oom",
      rule: "oom_halve_batch",
      source: "rule",
      action: { kind: "restart_with_env", set: { BATCH_SIZE: "half" }, command: [], notify: false },
    });
    const line = JSON.parse(fs.readFileSync(p.queue, "utf8"));
    expect(line).toEqual({
      id: a.id,
      incident_id: "20261122-030405-error-oom",
      rule: "oom_halve_batch",
      source: "rule",
      action: { kind: "restart_with_env", set: { BATCH_SIZE: "half" }, command: [], notify: false },
      time: a.time,
    });
    const b1 = drainSessionActions(p.queue, p.cursor);
    expect(b1.actions).toEqual([a]);
    expect(b1.cursor).toBeNull();
    // Not committed (e.g. the monitor died while applying): it comes again.
    expect(drainSessionActions(p.queue, p.cursor).actions).toEqual([a]);
    b1.commit();
    expect(readCursor(p.cursor)).toBe(a.id);
    expect(drainSessionActions(p.queue, p.cursor).actions).toEqual([]);
    const b = appendSessionAction(p.queue, { incident_id: "i2", action: restart });
    const b2 = drainSessionActions(p.queue, p.cursor);
    expect(b2.actions.map((x) => x.id)).toEqual([b.id]);
    expect(b2.actions[0]!.source).toBe("manual");
    expect(b2.actions[0]!.rule).toBeNull();
  });

  test("invalid lines are reported, the cursor moves past them; a torn last line waits", () => {
    const p = paths();
    const good = appendSessionAction(p.queue, { incident_id: "i1", action: restart });
    const lines = [
      JSON.stringify({ id: "00000000000000000099-aaaaaaaa", incident_id: "i2", action: { kind: "reboot" } }),
      "{not json",
      JSON.stringify({
        id: "99999999999999999990-bbbbbbbb",
        incident_id: "i3",
        action: { kind: "restart_with_env" },
      }),
      JSON.stringify({
        id: "99999999999999999991-cccccccc",
        incident_id: "i4",
        action: { kind: "custom_command", command: ["python", "fix.py"], timeout_seconds: 30 },
      }),
    ];
    fs.appendFileSync(p.queue, `${lines.join("\n")}\n`);
    fs.appendFileSync(p.queue, '{"id": "99999999999999999999-dddddddd", "incident_i');
    const batch = drainSessionActions(p.queue, p.cursor);
    expect(batch.actions.map((a) => a.incident_id)).toEqual(["i1", "i4"]);
    expect(batch.actions[1]!.action).toEqual({
      kind: "custom_command",
      set: {},
      command: ["python", "fix.py"],
      notify: true,
      timeout_seconds: 30,
    });
    expect(batch.invalid).toEqual([
      {
        line: 2,
        id: "00000000000000000099-aaaaaaaa",
        reason:
          "unknown action kind 'reboot' (expected restart, restart_with_env, pause, abort, custom_command)",
      },
      { line: 3, id: null, reason: "not valid JSON" },
      {
        line: 4,
        id: "99999999999999999990-bbbbbbbb",
        reason: "restart_with_env needs at least one variable to set",
      },
    ]);
    batch.commit();
    expect(readCursor(p.cursor)).toBe("99999999999999999991-cccccccc");
    // Everything before the cursor is done, the unparseable line included; the torn line is not read.
    const again = drainSessionActions(p.queue, p.cursor);
    expect(again.actions).toEqual([]);
    expect(again.invalid).toEqual([]);
    // The writer finishes its line.
    fs.appendFileSync(p.queue, 'd": "i5", "action": {"kind": "abort"}}\n');
    const last = drainSessionActions(p.queue, p.cursor);
    expect(last.actions.map((a) => [a.incident_id, a.action.kind])).toEqual([["i5", "abort"]]);
    expect(good.id < last.actions[0]!.id).toBe(true);
  });

  test("an unparseable line at the end is reported once per `seen` set", () => {
    const p = paths();
    appendSessionAction(p.queue, { incident_id: "i1", action: restart });
    drainSessionActions(p.queue, p.cursor).commit();
    fs.appendFileSync(p.queue, "garbage\n");
    const seen = new Set<string>();
    expect(drainSessionActions(p.queue, p.cursor, seen).invalid).toEqual([
      { line: 2, id: null, reason: "not valid JSON" },
    ]);
    expect(drainSessionActions(p.queue, p.cursor, seen).invalid).toEqual([]);
    const next = appendSessionAction(p.queue, { incident_id: "i2", action: restart });
    const b = drainSessionActions(p.queue, p.cursor, seen);
    expect(b.actions.map((a) => a.id)).toEqual([next.id]);
    b.commit();
    expect(drainSessionActions(p.queue, p.cursor).invalid).toEqual([]);
  });

  test("a missing queue reads as empty; a cursor without a queue changes nothing", () => {
    const p = paths();
    const b = drainSessionActions(p.queue, p.cursor);
    expect(b.actions).toEqual([]);
    b.commit();
    expect(fs.existsSync(p.cursor)).toBe(false);
  });

  test("actionProblem", () => {
    expect(actionProblem(restart)).toBeNull();
    expect(actionProblem({ ...restart, set: { A: "1" } })).toBe(
      "variables to set are only used by restart_with_env, not restart",
    );
    expect(actionProblem({ ...restart, kind: "custom_command" })).toBe("custom_command needs a command");
    expect(actionProblem({ ...restart, kind: "restart_with_env", set: { "A B": "1" } })).toBe(
      "not a variable name: A B",
    );
    expect(() =>
      appendSessionAction("/nonexistent/q", { incident_id: "x", action: { ...restart, command: ["x"] } }),
    ).toThrow("Cannot queue the action: a command is only used by custom_command, not restart");
  });
});
