import { describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli, scratchDirs } from "../../../tests/support/cli.ts";
import { applyReset } from "../../monitor/reset.ts";
import { emptyState, type MonitorState } from "../../monitor/state.ts";
import { procStartTime } from "../../util/proc.ts";

// Each test starts the CLI as real processes; on a loaded machine that takes seconds, not a timing claim.
setDefaultTimeout(60_000);

const tempDir = scratchDirs("autosentry-reset-");
const CONFIG = "process:\n  command: [sleep, '1']\n";

function worn(): MonitorState {
  const st = emptyState();
  Object.assign(st, {
    run_id: "r1",
    phase: "gave_up",
    restarts: 7,
    restarts_total: 12,
    consecutive_failures: 7,
    restart_window: ["2026-01-01T00:00:00Z"],
    identical: { signature: "x", count: 3 },
    escalated: true,
    force_agent: ["oom"],
    paused_detectors: ["oom"],
    attempts_by_detector: { oom: ["2026-01-01T00:00:00Z"] },
    agent_disabled: "quota",
    desired: "paused",
    paused_at: "2026-01-01T00:00:00Z",
    paused_by: "ann",
    restart_history: [{ time: "t", reason: "r", rule: null, new_pid: 1, incident_id: null }],
  });
  return st;
}

function project(st: MonitorState | null) {
  const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
  if (st) fs.writeFileSync(path.join(dir, ".autosentry", "state.json"), JSON.stringify(st));
  return dir;
}
const stateOf = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, ".autosentry", "state.json"), "utf8"));

describe("reset without a monitor", () => {
  test("counters, pauses and budgets go back to a fresh start; totals and history stay", () => {
    const dir = project(worn());
    const r = runCli(dir, ["reset", "-m", "new data"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("restarts 7 → 0 (12 in all, kept); pause lifted");
    const st = stateOf(dir);
    expect(st).toMatchObject({
      restarts: 0,
      restarts_total: 12,
      consecutive_failures: 0,
      restart_window: [],
      identical: { signature: null, count: 0 },
      escalated: false,
      force_agent: [],
      paused_detectors: [],
      attempts_by_detector: {},
      agent_disabled: null,
      desired: "running",
      paused_at: null,
    });
    expect(st.restart_history).toHaveLength(1);
    expect(st.reset_history).toHaveLength(1);
    expect(st.reset_history[0]).toMatchObject({
      reason: "new data",
      prior_restarts: 7,
      prior_restarts_total: 12,
      cleared_history: false,
      source: "manual",
    });
    const log = fs.readFileSync(path.join(dir, ".autosentry", "logs", "reset.log"), "utf8");
    expect(log).toMatch(
      /source=manual {2}by=\S+ {2}prior_restarts=7 {2}prior_total=12 {2}reason="new data"\n$/,
    );
    // No lock is left behind.
    expect(fs.existsSync(path.join(dir, ".autosentry", "monitor.lock"))).toBe(false);
  });

  test("--full needs --force, then clears the history", () => {
    const dir = project(worn());
    const refused = runCli(dir, ["reset", "--full"]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("--force");
    expect(stateOf(dir).restarts).toBe(7);
    expect(runCli(dir, ["reset", "--full", "--force"]).code).toBe(0);
    expect(stateOf(dir).restart_history).toEqual([]);
    expect(stateOf(dir).reset_history[0].cleared_history).toBe(true);
  });

  test("nothing has run yet: exit 1 with a clear line", () => {
    const r = runCli(project(null), ["reset"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("Cannot reset: no ");
    expect(r.err).not.toContain("    at ");
  });

  test("a live lock whose owner is another process sends the request and waits for it (--no-wait returns)", () => {
    const dir = project(worn());
    // The test runner is alive and is itself: a lock naming it reads as a running monitor.
    fs.writeFileSync(
      path.join(dir, ".autosentry", "monitor.lock"),
      JSON.stringify({
        pid: process.pid,
        proc_start: procStartTime(process.pid),
        started_at: "x",
        host: os.hostname(),
      }),
    );
    const r = runCli(dir, ["reset", "--no-wait", "-m", "via inbox"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`reset sent to the monitor (pid ${process.pid})`);
    const line = JSON.parse(fs.readFileSync(path.join(dir, ".autosentry", "control.jsonl"), "utf8").trim());
    expect(line).toMatchObject({ command: "reset", reason: "via inbox", full: false });
    // The state was not touched by the CLI: the monitor owns it.
    expect(stateOf(dir).restarts).toBe(7);
  });
});

test("applyReset keeps restarts_total and caps nothing it should not", () => {
  const st = worn();
  const rec = applyReset(st, { id: "a", reason: "r", by: "me", full: false });
  expect(rec).toMatchObject({ id: "a", prior_restarts: 7, unpaused: true });
  expect(st.restarts_total).toBe(12);
});
