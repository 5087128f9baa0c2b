/**
 * The monitor with its real parts (detectors, rules, incident store, journal, state.json) around a
 * scripted supervisor that the test drives: lines, exits and stops arrive exactly when the test
 * says. The end-to-end tests (tests/e2e) run the same decisions through the compiled binary and
 * real processes; these show how one decision is reached, file by file, without a build.
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseConfigText } from "../config/load.ts";
import type { ChildExit, ExitClass, Notification } from "../core/types.ts";
import { buildDetectors } from "../detectors/build.ts";
import { DetectorSet } from "../detectors/set.ts";
import { compileRules, RuleHealer } from "../healers/rules.ts";
import type { Healer } from "../healers/types.ts";
import { fingerprint } from "../incidents/fingerprint.ts";
import type { IncidentRecord } from "../incidents/record.ts";
import { FsIncidentStore } from "../incidents/store.ts";
import { Journal } from "../journal/journal.ts";
import type {
  ChildRecord,
  LaunchSpec,
  StopReason,
  Supervisor,
  SupervisorSink,
} from "../supervisors/types.ts";
import { readJsonl } from "../util/jsonl.ts";
import { FileLogger } from "../util/logger.ts";
import type { MonitorDeps } from "./context.ts";
import { sendControl } from "./control.ts";
import { Monitor } from "./monitor.ts";
import { monitorPaths } from "./paths.ts";
import { beginRun, emptyState, readState, StateStore } from "./state.ts";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** A backend whose child does what the test says. `stop` ends the child at once. */
class ScriptedSupervisor implements Supervisor {
  readonly kind = "local" as const;
  readonly capabilities = { restart: true, stop: true };
  readonly launches: LaunchSpec[] = [];
  readonly stops: StopReason[] = [];
  private child: { generation: number; alive: boolean } | null = null;
  /** While set, a launch waits for it (a capture process slow to start the child). */
  startGate: Promise<void> | null = null;

  constructor(private readonly sink: SupervisorSink) {}

  async start(spec: LaunchSpec): Promise<ChildRecord> {
    this.launches.push(spec);
    if (this.startGate) await this.startGate;
    this.child = { generation: spec.generation, alive: true };
    return this.record()!;
  }
  async adopt(): Promise<boolean> {
    return false;
  }
  async stop(reason: StopReason): Promise<void> {
    this.stops.push(reason);
    if (this.child?.alive) this.end(143, "stopped", "SIGTERM");
  }
  async detach(): Promise<void> {}
  record(): ChildRecord | null {
    if (!this.child) return null;
    const g = this.child.generation;
    return {
      kind: "local",
      generation: g,
      pid: 1000 + g,
      pgid: null,
      startedAt: 0,
      details: {},
      logPath: null,
      logOffset: 0,
    };
  }
  running(): boolean {
    return this.child?.alive ?? false;
  }

  /** The current child writes a line. */
  say(text: string): void {
    this.sink.line(text, "stderr", this.child!.generation);
  }
  /** A line from generation `generation` (a late one from an earlier child). */
  sayAs(generation: number, text: string): void {
    this.sink.line(text, "stderr", generation);
  }
  /** The current child ends. */
  end(code: number | null, exitClass: ExitClass, signal: string | null = null): void {
    const c = this.child!;
    c.alive = false;
    const exit: ChildExit = { code, signal, exitClass, at: Date.now(), generation: c.generation };
    this.sink.exit(exit);
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

const CONFIG = `process:
  command: [train]
  env: { BATCH: "64" }
  restart_policy: { cooldown_seconds: 0 }
monitor: { settle_seconds: 0.05 }
detectors:
  - { name: oom, kind: pattern, regex: "CUDA out of memory", cooldown_seconds: 0 }
rules:
  - { name: halve_batch, match: { detector: oom }, action: { kind: restart_with_env, set: { BATCH: half } } }
healing:
  claude: { enabled: false }
`;

/** A monitor built like build.ts builds one, with the scripted backend and recording fakes. */
function harness(yaml = CONFIG, over: Partial<MonitorDeps> = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "as-monitor-"));
  roots.push(root);
  const c = parseConfigText(yaml, { file: "autosentry.yaml", root, env: {} }).data;
  const paths = monitorPaths(c);
  fs.mkdirSync(paths.logDir, { recursive: true });
  const logger = new FileLogger(paths.monitorLog, { echo: false });
  const state = emptyState();
  beginRun(state, "run1");
  const store = new StateStore(paths.state, state, logger, 5000);
  const notifications: Notification[] = [];
  const ledger: string[] = [];
  let sup!: ScriptedSupervisor;
  const monitor = new Monitor({
    config: c,
    configPath: null,
    echo: null,
    version: "test",
    logger,
    createSupervisor: (sink) => {
      sup = new ScriptedSupervisor(sink);
      return sup;
    },
    detectors: new DetectorSet(buildDetectors(c.detectors)),
    rules: new RuleHealer(compileRules(c.rules)),
    agent: null,
    healingMode: "builtin",
    sessionMarker: path.join(root, "marker"),
    sessionQueue: null,
    fixes: {
      keep: async () => "kept",
      revert: async () => "reverted",
      openPullRequest: async () => "url",
    },
    ledger: {
      append: (a) => ledger.push(`append ${a.incident_id} ${a.source}`),
      update: (id, source, status) => ledger.push(`update ${id} ${source} ${status}`),
    },
    store: new FsIncidentStore({ dir: paths.incidents, logger }),
    notifier: { name: "test", notify: (n) => notifications.push(n), close: async () => {} },
    journal: new Journal(paths.journal, { runId: "run1" }),
    state: store,
    controlFile: paths.control,
    fingerprint,
    runCommand: async () => {
      throw new Error("no custom commands here");
    },
    parseActionBlock: () => null,
    env: { PATH: "/usr/bin:/bin" },
    continuing: false,
    ...over,
  });
  const events = () => readJsonl<{ event: string }>(paths.journal).records.map((r) => r.event);
  const phase = () => readState(paths.state)?.phase ?? null;
  return { monitor, sup: () => sup, store, paths, events, phase, ledger, notifications, logger };
}

describe("Monitor (scripted backend)", () => {
  test("a rule's restart_with_env reaches the next launch; the child's completion keeps the fix", async () => {
    const h = harness();
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();
    expect(sup.launches[0]!.env.BATCH).toBe("64");

    sup.say("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB");
    await until("the relaunch", () => sup.launches.length === 2);
    expect(sup.stops).toEqual(["restart"]);
    expect(sup.launches[1]!.generation).toBe(2);
    expect(sup.launches[1]!.env.BATCH).toBe("32");
    expect(sup.launches[1]!.envOverrides).toEqual({ BATCH: "32" });

    sup.end(0, "success");
    expect(await done).toBe(0);
    h.logger.close();

    const st = readState(h.paths.state)!;
    expect(st.phase).toBe("completed");
    expect(st.restarts).toBe(0);
    expect(st.restarts_total).toBe(1);
    expect(st.env_overlay).toEqual({ BATCH: "32" });
    expect(st.pending_verifications).toEqual([]);
    const id = st.last_incident_id!;
    expect(fs.existsSync(path.join(h.paths.incidents, id, "report.md"))).toBe(true);
    expect(h.ledger).toEqual([`append ${id} halve_batch`, `update ${id} halve_batch kept`]);
    expect(h.events()).toEqual([
      "monitor_started",
      "child_start_requested",
      "child_started",
      "detection",
      "incident",
      "recovery_started",
      "recovery_applied",
      "child_exited",
      "restart_scheduled",
      "child_start_requested",
      "child_started",
      "child_exited",
      "recovery_verified",
      "monitor_stopped",
    ]);
  });

  test("operator pause, resume and abort through the control inbox", async () => {
    const h = harness();
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();

    sendControl(h.paths.control, "pause", "maintenance");
    await until("the pause", () => h.phase() === "paused");
    expect(sup.stops).toEqual(["pause"]);
    expect(sup.running()).toBe(false);
    expect(readState(h.paths.state)!.desired).toBe("paused");

    sendControl(h.paths.control, "resume");
    await until("the relaunch", () => sup.launches.length === 2);
    await until("running again", () => h.phase() === "running");

    sendControl(h.paths.control, "abort");
    expect(await done).toBe(130);
    h.logger.close();
    expect(sup.stops).toEqual(["pause", "abort"]);
    const st = readState(h.paths.state)!;
    expect(st.phase).toBe("aborted");
    expect(st.exit_code).toBe(130);
    const ops = h
      .events()
      .filter((e) => ["operator_command", "paused", "resumed", "monitor_stopped"].includes(e));
    expect(ops).toEqual([
      "operator_command",
      "paused",
      "operator_command",
      "resumed",
      "operator_command",
      "monitor_stopped",
    ]);
  });

  test("a pause that arrives while a child is being started stops that child and is confirmed", async () => {
    // Found in a crash loop: the pause found no child alive (the launch was in flight) and set
    // the phase to paused, then the launch finished and set it back to running; the child's exit
    // restarted nothing, but the phase never said paused and `autosentry pause` timed out.
    const h = harness();
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();
    let release!: () => void;
    sup.startGate = new Promise<void>((r) => {
      release = r;
    });
    sup.end(1, "failure");
    await until("the restart's launch", () => sup.launches.length === 2);
    sendControl(h.paths.control, "pause", "maintenance");
    await until("the pause applied", () => h.events().includes("paused"));
    release();
    sup.startGate = null;
    // The launch goes on: its child is started, then stopped for the pause.
    await until("the started child stopped", () => sup.stops.length > 0 && !sup.running());
    expect(sup.stops).toEqual(["pause"]);
    await until("the pause confirmed", () => h.phase() === "paused");
    await Bun.sleep(200); // nothing relaunches it
    expect(sup.launches).toHaveLength(2);
    expect(h.phase()).toBe("paused");
    sendControl(h.paths.control, "abort");
    expect(await done).toBe(130);
    h.logger.close();
  });

  test("a crash loop: what the monitor keeps per generation and per launch stays bounded (issue 16)", async () => {
    const h = harness(
      CONFIG.replace(
        "restart_policy: { cooldown_seconds: 0 }",
        "restart_policy: { cooldown_seconds: 0, max_restarts: 1000, max_identical_failures: 1000 }",
      ),
    );
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();
    const cycles = 105;
    // Every other child is stopped on purpose (a rule restarts it), every other one crashes.
    for (let i = 1; i <= cycles; i++) {
      if (i % 2 === 0) sup.say("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB");
      else sup.end(1, "failure");
      await until(`relaunch ${i}`, () => sup.launches.length === i + 1);
    }
    const m = (h.monitor as unknown as { m: { condemned: Set<number>; gen: number } }).m;
    expect(m.gen).toBe(cycles + 1);
    // The generations decided (stopped or replaced): only the last one is still remembered.
    expect([...m.condemned]).toEqual([cycles]);
    // A late line of a long-gone generation is still not handled.
    sup.sayAs(1, "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB");
    sup.sayAs(cycles, "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB");
    await Bun.sleep(200);
    expect(sup.launches).toHaveLength(cycles + 1);
    sup.end(0, "success");
    expect(await done).toBe(0);
    h.logger.close();
    const st = readState(h.paths.state)!;
    expect(st.restarts_total).toBe(cycles);
    expect(h.events().filter((e) => e === "incident")).toHaveLength(cycles);
    // 106 launches within the hour: the newest 100 are kept at a launch (policy.ts WINDOW_KEPT),
    // plus the launch itself.
    expect(st.restart_window).toHaveLength(101);
  }, 60_000);

  test("a failure no rule knows, with the child dead, goes to the restart policy; one_shot stops", async () => {
    const h = harness(`process:
  command: [train]
  lifecycle: one_shot
monitor: { settle_seconds: 0.05 }
healing:
  claude: { enabled: false }
`);
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    h.sup().end(3, "failure");
    expect(await done).toBe(3);
    h.logger.close();
    const st = readState(h.paths.state)!;
    expect(st.phase).toBe("stopped");
    expect(st.stop_reason).toBe("Child exited with code 3 (one_shot)");
    expect(h.sup().launches).toHaveLength(1);
    expect(h.events()).toContain("incident");
  });
});

describe("the outcome note written with the incident folder (issue 13)", () => {
  const POLICY = "No rule matched; the restart policy decides";
  const LOOP = `process:
  command: [train]
  env: { BATCH: "64" }
  restart_policy: { cooldown_seconds: 0, max_restarts: 100, max_identical_failures: 100 }
monitor: { settle_seconds: 0.05 }
detectors:
  - { name: oom, kind: pattern, regex: "CUDA out of memory", cooldown_seconds: 0 }
rules:
  - { name: halve_batch, match: { detector: oom }, action: { kind: restart_with_env, set: { BATCH: half } } }
healing:
  claude: { enabled: false }
`;
  type H = ReturnType<typeof harness>;
  const record = (h: H, id: string) =>
    JSON.parse(fs.readFileSync(path.join(h.paths.incidents, id, "incident.json"), "utf8")) as IncidentRecord;
  const report = (h: H, id: string) => fs.readFileSync(path.join(h.paths.incidents, id, "report.md"), "utf8");
  /** index.jsonl's lines per incident id, in order. */
  const indexLines = (h: H) => {
    const by = new Map<string, number>();
    for (const r of readJsonl<{ id: string }>(path.join(h.paths.incidents, "index.jsonl")).records)
      by.set(r.id, (by.get(r.id) ?? 0) + 1);
    return by;
  };
  const ids = (h: H) => [...indexLines(h).keys()];
  async function stop(h: H, done: Promise<number>): Promise<void> {
    sendControl(h.paths.control, "abort");
    expect(await done).toBe(130);
    h.logger.close();
  }

  test("a plain crash loop: each folder is written once, with the restart policy's note, the same text as before", async () => {
    const h = harness(LOOP);
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();
    for (let i = 1; i <= 5; i++) {
      sup.end(1, "failure");
      await until(`relaunch ${i}`, () => sup.launches.length === i + 1);
    }
    await stop(h, done);
    expect(ids(h)).toHaveLength(5);
    for (const id of ids(h)) {
      const r = record(h, id);
      expect(r.detector).toBe("exit_code");
      expect(r.outcome).toMatchObject({ source: null, rule: null, action: null, note: POLICY });
      expect(report(h, id)).toContain(`**Resolution:** *(none)*`);
      expect(report(h, id)).toContain(`*(no fix applied)*\n\n${POLICY}`);
      expect(fs.existsSync(path.join(h.paths.incidents, id, "rule_match.json"))).toBe(false);
      expect(fs.readdirSync(path.join(h.paths.incidents, id, "fix"))).toEqual([]);
    }
    // One write: the index line of the folder is its only one (the outcome was not recorded again).
    expect([...indexLines(h).values()]).toEqual([1, 1, 1, 1, 1]);
    // Each restart's record is complete (its pid) and frozen, so it is printed once (state.ts).
    const history = h.store.state.restart_history;
    expect(history.map((r) => [r.new_pid !== null, Object.isFrozen(r)])).toEqual(
      Array.from({ length: 5 }, () => [true, true]),
    );
  });

  test("a rule that acts still takes the old path: the folder first, then the rule's outcome", async () => {
    const h = harness(LOOP);
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();
    sup.say("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB");
    sup.end(1, "failure");
    await until("the relaunch", () => sup.launches.length === 2);
    await until("the outcome recorded", () => [...indexLines(h).values()][0] === 2);
    await stop(h, done);
    const [id] = ids(h);
    expect(record(h, id!).outcome).toMatchObject({
      source: "rule",
      rule: "halve_batch",
      action: { kind: "restart_with_env" },
      resolved_env: { BATCH: "32" },
      note: null,
    });
    expect(report(h, id!)).toContain("Rule `halve_batch` matched.");
    expect(report(h, id!)).not.toContain(POLICY);
    expect(sup.launches[1]!.env.BATCH).toBe("32");
  });

  test("with an agent nothing is foretold: it reads a folder without an outcome, and its note is the one recorded", async () => {
    const seen: Array<IncidentRecord["outcome"]> = [];
    const agent: Healer = {
      name: "agent",
      heal: async (ctx) => {
        const r = JSON.parse(fs.readFileSync(path.join(ctx.incidentDir, "incident.json"), "utf8"));
        seen.push((r as IncidentRecord).outcome);
        ctx.notes?.push("the agent's reply has no valid ACTION block: the restart policy decides");
        return null;
      },
    };
    const h = harness(LOOP, { agent });
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();
    sup.end(1, "failure");
    await until("the relaunch", () => sup.launches.length === 2);
    await until("the outcome recorded", () => [...indexLines(h).values()][0] === 2);
    await stop(h, done);
    expect(seen).toEqual([null]);
    const [id] = ids(h);
    const note = "the agent's reply has no valid ACTION block: the restart policy decides";
    expect(record(h, id!).outcome).toMatchObject({ source: null, action: null, note });
    expect(report(h, id!)).toContain(`*(no fix applied)*\n\n${note}`);
  });

  test("a detector past its hourly budget, no rule matching: the budget's note, written with the folder; nothing counted", async () => {
    const h = harness(
      LOOP.replace(
        "match: { detector: oom }",
        'match: { detector: oom, message_regex: "2[.]00 GiB" }',
      ).replace("healing:\n", "healing:\n  budget: { max_attempts_per_detector_per_hour: 1 }\n"),
    );
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();
    // The rule acts once (an attempt of detector oom)...
    sup.say("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB");
    await until("the rule's relaunch", () => sup.launches.length === 2);
    await until("the rule's outcome recorded", () => [...indexLines(h).values()][0] === 2);
    // ...then an oom no rule matches, past the budget: the policy restarts, with the budget's note.
    sup.say("RuntimeError: CUDA out of memory. Tried to allocate 4.00 GiB");
    sup.end(1, "failure");
    await until("the policy's relaunch", () => sup.launches.length === 3);
    await stop(h, done);
    const [first, second] = ids(h);
    expect(record(h, first!).outcome).toMatchObject({ source: "rule", rule: "halve_batch" });
    const note =
      "healing paused for detector oom: 1 attempts in the last hour (budget 1); `autosentry approve` resumes it";
    expect(record(h, second!).detector).toBe("oom");
    expect(record(h, second!).outcome).toMatchObject({ source: null, action: null, note });
    expect(report(h, second!)).toContain(`*(no fix applied)*\n\n${note}`);
    expect([...indexLines(h).values()]).toEqual([2, 1]);
    expect(readState(h.paths.state)!.attempts_by_detector.oom).toHaveLength(1);
  });

  test("session mode: the session's note is written with the folder, and the session is woken after it", async () => {
    const marker = path.join(os.tmpdir(), `as-session-marker-${process.pid}-${Date.now()}`);
    roots.push(marker);
    const h = harness(LOOP, { healingMode: "session", sessionMarker: marker });
    const done = h.monitor.run();
    await until("the first launch", () => h.sup()?.launches.length === 1);
    const sup = h.sup();
    sup.end(1, "failure");
    await until("the relaunch", () => sup.launches.length === 2);
    await stop(h, done);
    const [id] = ids(h);
    const note = "session mode: the incident is queued for the Claude Code session";
    expect(record(h, id!).outcome).toMatchObject({ source: null, action: null, note });
    expect([...indexLines(h).values()]).toEqual([1]);
    expect(fs.existsSync(marker)).toBe(true);
  });
});
