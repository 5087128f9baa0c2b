/**
 * `autosentry probe`, `session apply` and `hooks` run from source in scratch projects, against real
 * state files, a real monitor lock (held by this test process) and real incident folders.
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FsIncidentStore } from "../../incidents/store.ts";
import { newIncident, tracebackDetection } from "../../incidents/test-fixtures.ts";
import { acquireLock } from "../../monitor/lock.ts";
import { emptyState } from "../../monitor/state.ts";
import { readCursor } from "../../session/queue.ts";
import { MemoryLogger } from "../../util/logger.ts";

const MAIN = path.resolve(import.meta.dir, "../../../main.ts");
const dirs: string[] = [];
const releases: Array<() => void> = [];
afterEach(() => {
  for (const r of releases.splice(0)) r();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function cli(cwd: string, args: string[], stdin?: string) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

const SESSION_YAML = `process:
  command: [python, train.py]
dispatch: { mode: session }
rules:
  - name: oom_halve
    match: { exception_type: OutOfMemoryError }
    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }
`;

/** A project whose monitor (this test process) is alive, with two incidents. */
async function project(yaml = SESSION_YAML, opts: { live?: boolean; incidents?: boolean } = {}) {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-probe-")));
  dirs.push(root);
  const dot = path.join(root, ".autosentry");
  fs.mkdirSync(dot);
  fs.writeFileSync(path.join(dot, "autosentry.yaml"), yaml);
  const st = emptyState();
  st.run_id = "r1";
  st.phase = "running";
  st.monitor = {
    pid: process.pid,
    started_at: new Date().toISOString(),
    proc_start: null,
    version: "t",
    host: os.hostname(),
  };
  st.pid = 424242;
  st.child_running = true;
  st.last_heartbeat = new Date().toISOString();
  fs.writeFileSync(path.join(dot, "state.json"), JSON.stringify(st));
  if (opts.live !== false) releases.push(acquireLock(path.join(dot, "monitor.lock")).release);
  const ids: string[] = [];
  if (opts.incidents !== false) {
    const store = new FsIncidentStore({ dir: path.join(dot, "incidents"), logger: new MemoryLogger() });
    const oom = tracebackDetection({
      message: "torch.OutOfMemoryError: CUDA out of memory",
      exceptionType: "torch.OutOfMemoryError",
    });
    ids.push((await store.create(newIncident({ detection: oom, related: [oom] }))).id);
    ids.push((await store.create(newIncident())).id);
  }
  return { root, dot, ids };
}

describe("autosentry probe", () => {
  test("JSON v2: the monitor's own liveness, pending incidents with the matching rule; the cursor", async () => {
    const p = await project();
    const r = await cli(p.root, ["probe"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.schema_version).toBe(2);
    expect(j.monitor).toMatchObject({ running: true, pid: process.pid, pid_alive: true, child_pid: 424242 });
    expect(j.dispatch_mode).toBe("session");
    expect(j.pending_incidents).toEqual([
      {
        id: p.ids[0],
        detector: "traceback",
        kind: "error",
        message: "torch.OutOfMemoryError: CUDA out of memory",
        rule_match: "oom_halve",
        suggested_action: {
          kind: "restart_with_env",
          set: { BATCH_SIZE: "half" },
          command: [],
          timeout_seconds: 300,
          notify: true,
        },
        folder: path.join(p.dot, "incidents", p.ids[0]!),
      },
      {
        id: p.ids[1],
        detector: "traceback",
        kind: "error",
        message: "ValueError: bad batch ``7``",
        rule_match: null,
        suggested_action: null,
        folder: path.join(p.dot, "incidents", p.ids[1]!),
      },
    ]);
    expect(r.stderr).toBe("autosentry probe: monitor healthy; 2 pending incidents\n");

    const a = await cli(p.root, ["probe", "--advance-cursor", p.ids[0]!, "-q"]);
    expect(a.stderr).toBe("");
    expect(JSON.parse(a.stdout).pending_incidents.map((x: { id: string }) => x.id)).toEqual([p.ids[1]]);
    expect(readCursor(path.join(p.dot, "session_dispatch_cursor"))).toBe(p.ids[0]!);
    const b = await cli(p.root, ["probe", "--advance-cursor", p.ids[1]!]);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).summary).toBe("monitor healthy; no pending incidents");
    expect((await cli(p.root, ["probe", "--advance-cursor", "../etc"])).code).toBe(2);
  });

  test("--inject-prompt honours the Stop-hook contract: exit 0 always, silent when stop_hook_active", async () => {
    const p = await project();
    const active = await cli(
      p.root,
      ["probe", "--inject-prompt", "--quiet"],
      '{"hook_event_name":"Stop","stop_hook_active":true}',
    );
    expect(active).toEqual({ code: 0, stdout: "", stderr: "" });
    for (const stdin of ['{"hook_event_name":"Stop","stop_hook_active":false}', undefined]) {
      const r = await cli(p.root, ["probe", "--inject-prompt", "--quiet"], stdin);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      const j = JSON.parse(r.stdout);
      expect(j.decision).toBe("block");
      expect(j.reason).toContain("2 incidents wait for you:");
      expect(j.reason).toContain(
        `- ${p.ids[0]} [traceback] rule=oom_halve — torch.OutOfMemoryError: CUDA out of memory`,
      );
      expect(j.reason).toContain(`probe --advance-cursor ${p.ids[1]} --quiet`);
    }
    await cli(p.root, ["probe", "--advance-cursor", p.ids[1]!, "-q"]);
    expect(await cli(p.root, ["probe", "--inject-prompt", "-q"], '{"stop_hook_active":false}')).toEqual({
      code: 0,
      stdout: "",
      stderr: "",
    });
  });

  test("a dead monitor (its run unfinished) blocks with relaunch guidance; a finished run does not", async () => {
    const p = await project(SESSION_YAML, { live: false, incidents: false });
    const r = await cli(p.root, ["probe", "--inject-prompt"], "{}");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `autosentry probe: monitor DOWN (pid=${process.pid}, phase running); no pending incidents\n`,
    );
    const reason = JSON.parse(r.stdout).reason as string;
    expect(reason).toContain("The monitor is DOWN");
    expect(reason).toContain(`cd ${p.root} && nohup `);
    expect((await cli(p.root, ["probe"])).code).toBe(1);
    const st = JSON.parse(fs.readFileSync(path.join(p.dot, "state.json"), "utf8"));
    fs.writeFileSync(path.join(p.dot, "state.json"), JSON.stringify({ ...st, phase: "completed" }));
    expect(await cli(p.root, ["probe", "--inject-prompt", "-q"], "{}")).toEqual({
      code: 0,
      stdout: "",
      stderr: "",
    });
    expect((await cli(p.root, ["probe", "-q"])).code).toBe(0);
  });

  test("dispatch builtin: the hook stays silent; plain probe still reports a dead monitor", async () => {
    const p = await project("process:\n  command: [python, train.py]\n", { live: false });
    expect(await cli(p.root, ["probe", "--inject-prompt", "-q"])).toEqual({
      code: 0,
      stdout: "",
      stderr: "",
    });
    const r = await cli(p.root, ["probe", "-q"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.monitor.health).toBe("down");
    expect(j.pending_incidents).toEqual([]);
  });

  test("a broken config: the hook exits 0 and prints nothing on stdout; plain probe exits 2", async () => {
    const p = await project("process: [oops\n", { incidents: false });
    const h = await cli(p.root, ["probe", "--inject-prompt"], '{"stop_hook_active":false}');
    expect(h.code).toBe(0);
    expect(h.stdout).toBe("");
    expect(h.stderr).toContain("autosentry probe:");
    expect((await cli(p.root, ["probe"])).code).toBe(2);
  });
});

describe("autosentry session apply", () => {
  test("queues one line per call; the incident must exist; bad options are usage errors", async () => {
    const p = await project();
    const q = path.join(p.dot, "session_actions.jsonl");
    const ok = await cli(p.root, [
      "session",
      "apply",
      "--incident",
      p.ids[0]!,
      "--action",
      "restart_with_env",
      "--set",
      "BATCH_SIZE=half",
      "--rule",
      "oom_halve",
      "--source",
      "rule",
      "--no-notify",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe("");
    const line = JSON.parse(fs.readFileSync(q, "utf8"));
    expect(ok.stdout).toBe(`queued restart_with_env for incident ${p.ids[0]} (${line.id}) in ${q}\n`);
    expect(line).toMatchObject({
      incident_id: p.ids[0],
      rule: "oom_halve",
      source: "rule",
      action: { kind: "restart_with_env", set: { BATCH_SIZE: "half" }, command: [], notify: false },
    });
    const cmd = await cli(p.root, [
      "session",
      "apply",
      "--incident",
      p.ids[1]!,
      "--action",
      "custom_command",
      "--command",
      "python",
      "--command",
      "repair.py",
      "--timeout",
      "60",
    ]);
    expect(cmd.code).toBe(0);
    const second = JSON.parse(fs.readFileSync(q, "utf8").split("\n")[1]!);
    expect(second.action).toEqual({
      kind: "custom_command",
      set: {},
      command: ["python", "repair.py"],
      notify: true,
      timeout_seconds: 60,
    });
    expect(second.source).toBe("manual");
    for (const args of [
      ["--incident", p.ids[0]!, "--action", "restart_with_env"],
      ["--incident", p.ids[0]!, "--action", "custom_command"],
      ["--incident", p.ids[0]!, "--action", "none"],
      ["--incident", p.ids[0]!, "--action", "restart", "--source", "robot"],
      ["--action", "restart"],
      ["--incident", "../x", "--action", "restart"],
    ]) {
      expect({ args, code: (await cli(p.root, ["session", "apply", ...args])).code }).toEqual({
        args,
        code: 2,
      });
    }
    const missing = await cli(p.root, [
      "session",
      "apply",
      "--incident",
      "20990101-000000-nope",
      "--action",
      "abort",
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no incident 20990101-000000-nope");
    expect(fs.readFileSync(q, "utf8").trim().split("\n")).toHaveLength(2);
  });

  test("under dispatch builtin it warns that the monitor will not apply it", async () => {
    const p = await project("process:\n  command: [python, train.py]\n");
    const r = await cli(p.root, ["session", "apply", "--incident", p.ids[0]!, "--action", "pause"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: dispatch.mode is builtin");
  });
});

describe("autosentry hooks", () => {
  test("install (idempotent, other hooks kept), remove; warns outside session mode; a bad file is left alone", async () => {
    const p = await project(SESSION_YAML, { incidents: false });
    const settings = path.join(p.root, ".claude/settings.local.json");
    fs.mkdirSync(path.dirname(settings));
    fs.writeFileSync(
      settings,
      JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: "command", command: "say done" }] }] } }),
    );
    const i = await cli(p.root, ["hooks", "install"]);
    expect(i.code).toBe(0);
    expect(i.stdout).toBe(`installed the Stop hook in ${settings}\n`);
    expect(i.stderr).toBe("");
    const stop = JSON.parse(fs.readFileSync(settings, "utf8")).hooks.Stop;
    expect(stop).toHaveLength(2);
    expect(stop[0]).toEqual({ hooks: [{ type: "command", command: "say done" }] });
    expect(stop[1].hooks[0].command).toEndWith(" probe --inject-prompt --quiet");
    expect((await cli(p.root, ["hooks", "install"])).stdout).toBe(
      `the Stop hook is already in ${settings}\n`,
    );
    // The installed command really is the Stop hook: run it as Claude Code would (through a shell).
    const hook = Bun.spawnSync(["sh", "-c", stop[1].hooks[0].command], {
      cwd: p.root,
      stdin: new TextEncoder().encode('{"stop_hook_active":false}'),
    });
    expect(hook.exitCode).toBe(0);
    expect(hook.stdout.toString()).toBe("");

    const r = await cli(p.root, ["hooks", "remove"]);
    expect(r.stdout).toBe(`removed the Stop hook from ${settings}\n`);
    expect(JSON.parse(fs.readFileSync(settings, "utf8"))).toEqual({
      hooks: { Stop: [{ hooks: [{ type: "command", command: "say done" }] }] },
    });

    const b = await project("process:\n  command: [python, train.py]\n", { incidents: false });
    const w = await cli(b.root, ["hooks", "install"]);
    expect(w.code).toBe(0);
    expect(w.stderr).toContain("warning: dispatch.mode is builtin");

    fs.writeFileSync(settings, "{broken");
    const bad = await cli(p.root, ["hooks", "install"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`left ${settings} alone: it is not valid JSON`);
    expect(fs.readFileSync(settings, "utf8")).toBe("{broken");
  });
});
