import { describe, expect, test } from "bun:test";
import {
  type PendingIncident,
  type ProbeInput,
  type ProbeState,
  parseHookInput,
  probeReport,
  stopHookOutput,
  stopHookReason,
} from "./probe.ts";

const NOW = Date.parse("2026-11-22T12:00:00Z");
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function state(over: Partial<ProbeState> = {}): ProbeState {
  return {
    phase: "running",
    stop_reason: null,
    last_heartbeat: ago(3),
    last_exit_code: null,
    child_running: true,
    pid: 777,
    child_dead_since: null,
    next_restart_at: null,
    stage: null,
    stage_index: null,
    stage_count: null,
    monitor: { pid: 555 },
    ...over,
  };
}

const incident = (id: string, rule: string | null = null): PendingIncident => ({
  id,
  detector: "traceback",
  kind: "error",
  message: `ValueError: bad ${id}`,
  rule_match: rule,
  suggested_action: rule ? { kind: "restart", set: {}, command: [], notify: true } : null,
  folder: `/p/.autosentry/incidents/${id}`,
});

function input(over: Partial<ProbeInput> = {}): ProbeInput {
  return {
    configPath: "/p/.autosentry/autosentry.yaml",
    root: "/p",
    dispatchMode: "session",
    state: state(),
    lock: { pid: 555, alive: true },
    cursor: null,
    pending: [],
    staleAfterSeconds: 60,
    deadChildGraceSeconds: 900,
    now: NOW,
    ...over,
  };
}

describe("probeReport", () => {
  test("healthy: the monitor's own pid (the lock owner), the child's pid apart", () => {
    const r = probeReport(input());
    expect(r.schema_version).toBe(2);
    expect(r.monitor).toMatchObject({
      running: true,
      pid: 555,
      pid_alive: true,
      child_pid: 777,
      heartbeat_age_seconds: 3,
      stale: false,
      wedged: false,
      health: "healthy",
    });
    expect(r.summary).toBe("monitor healthy; no pending incidents");
    expect(r.needs_attention).toBe(false);
  });

  test("a live child does not make a dead monitor alive: DOWN", () => {
    const r = probeReport(input({ lock: { pid: 555, alive: false } }));
    expect(r.monitor.running).toBe(false);
    expect(r.monitor.health).toBe("down");
    expect(r.summary).toBe("monitor DOWN (pid=555, phase running); no pending incidents");
    expect(r.needs_attention).toBe(true);
    expect(probeReport(input({ lock: null, state: state({ phase: "detached" }) })).monitor.health).toBe(
      "down",
    );
  });

  test("an ended run or a project never run is not DOWN", () => {
    const done = probeReport(
      input({
        lock: null,
        state: state({ phase: "completed", stop_reason: "Child completed successfully" }),
      }),
    );
    expect(done.monitor.health).toBe("finished");
    expect(done.summary).toBe(
      "monitor not running: the run ended (completed: Child completed successfully); no pending incidents",
    );
    expect(done.needs_attention).toBe(false);
    const never = probeReport(input({ lock: null, state: null }));
    expect(never.monitor.health).toBe("never_started");
    expect(never.needs_attention).toBe(false);
  });

  test("stale heartbeat; wedged (no child, nothing scheduled, past the grace)", () => {
    const stale = probeReport(input({ state: state({ last_heartbeat: ago(61) }) }));
    expect(stale.monitor.health).toBe("stale");
    expect(stale.monitor.running).toBe(false);
    expect(stale.summary).toBe("monitor STALE (heartbeat 61s old, threshold 60s); no pending incidents");
    const dead = { child_running: false, child_dead_since: ago(901), stage: "train" };
    const wedged = probeReport(input({ state: state(dead) }));
    expect(wedged.monitor.wedged).toBe(true);
    expect(wedged.summary).toBe(
      "monitor WEDGED [stage train] — heartbeat fresh but no child for 901s (threshold 900s); no pending incidents",
    );
    // A restart is scheduled, or the run is paused: not wedged.
    expect(probeReport(input({ state: state({ ...dead, next_restart_at: ago(-10) }) })).monitor.wedged).toBe(
      false,
    );
    expect(probeReport(input({ state: state({ ...dead, phase: "paused" }) })).monitor.wedged).toBe(false);
    // Grace 0: the stale threshold is used.
    expect(
      probeReport(input({ deadChildGraceSeconds: 0, state: state({ ...dead, child_dead_since: ago(61) }) }))
        .monitor.wedged,
    ).toBe(true);
  });

  test("pending incidents need attention", () => {
    const r = probeReport(input({ pending: [incident("a"), incident("b", "oom")] }));
    expect(r.summary).toBe("monitor healthy; 2 pending incidents");
    expect(r.needs_attention).toBe(true);
  });
});

describe("Stop hook output", () => {
  test("work and stop_hook_active false (or no input): a block decision naming the work", () => {
    const pending = Array.from({ length: 7 }, (_, i) =>
      incident(`2026112${i}-000000-error-traceback`, i ? null : "oom"),
    );
    const r = probeReport(input({ pending, lock: { pid: 555, alive: false } }));
    for (const hookInput of [null, parseHookInput('{"hook_event_name":"Stop","stop_hook_active":false}')]) {
      const out = stopHookOutput(r, hookInput, "/opt/autosentry");
      const j = JSON.parse(out!);
      expect(Object.keys(j)).toEqual(["decision", "reason"]);
      expect(j.decision).toBe("block");
      expect(j.reason).toBe(stopHookReason(r, "/opt/autosentry"));
    }
    const reason = stopHookReason(r, "/opt/autosentry");
    expect(reason).toStartWith(
      "autosentry: session-watch fired (monitor DOWN (pid=555, phase running); 7 pending incidents).",
    );
    expect(reason).toContain(
      "  cd /p && nohup /opt/autosentry run -c /p/.autosentry/autosentry.yaml > /dev/null 2>&1 &",
    );
    expect(reason).toContain(
      "- 20261120-000000-error-traceback [traceback] rule=oom — ValueError: bad 20261120",
    );
    expect(reason).toContain("- 20261121-000000-error-traceback [traceback] rule=no-rule — ");
    expect(reason).toContain("… and 2 more");
    expect(reason).not.toContain("20261125-000000");
    expect(reason).toContain(
      "/opt/autosentry probe --advance-cursor 20261126-000000-error-traceback --quiet",
    );
    expect(reason).toContain("/opt/autosentry session apply --incident <id> --action");
  });

  test("stop_hook_active true: nothing, whatever the work", () => {
    const r = probeReport(input({ pending: [incident("a")] }));
    expect(stopHookOutput(r, { stop_hook_active: true })).toBeNull();
  });

  test("no work, or dispatch builtin: nothing", () => {
    expect(stopHookOutput(probeReport(input()), null)).toBeNull();
    const builtin = probeReport(input({ dispatchMode: "builtin", lock: null }));
    expect(builtin.needs_attention).toBe(true);
    expect(stopHookOutput(builtin, null)).toBeNull();
  });

  test("hook input parsing tolerates nothing and junk", () => {
    expect(parseHookInput(null)).toBeNull();
    expect(parseHookInput("")).toBeNull();
    expect(parseHookInput("[]")).toBeNull();
    expect(parseHookInput("{oops")).toBeNull();
    expect(parseHookInput('{"stop_hook_active": true}')).toEqual({ stop_hook_active: true });
  });
});
