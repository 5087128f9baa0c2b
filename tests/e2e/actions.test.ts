/**
 * End-to-end: the rule actions and lifecycles, through dist/autosentry with real jobs.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { incidentIds, journal, makeProject, readFile, readState, run, start, waitFor } from "./helpers.ts";

const COUNTER = `n=$(( $(cat runs 2>/dev/null || echo 0) + 1 )); echo "$n" > runs\n`;

describe("custom_command", () => {
  test("its output lands in the incident and the ACTION block it prints is applied next", async () => {
    const dir = makeProject(
      {
        "job.sh": `${COUNTER}echo "mode=\${MODE:-fast} run $n"\nif [ "\${MODE:-fast}" = fast ]; then echo "fatal: kernel too fast" >&2; exit 2; fi\necho done\n`,
        "fix.sh":
          'echo "checked the cache for $PROJECT"\necho "ACTION: restart_with_env"\necho "SET: MODE=safe"\n',
      },
      `process:
  command: [sh, job.sh]
  env: { PROJECT: demo }
  restart_policy: { cooldown_seconds: 0.1 }
detectors:
  - { name: fatal, kind: pattern, regex: "fatal: .*" }
rules:
  - name: diagnose
    match: { detector: fatal }
    action: { kind: custom_command, command: [sh, fix.sh], timeout_seconds: 20 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFile(dir, "runs").trim()).toBe("2");
    const id = incidentIds(dir)[0]!;
    const output = readFile(dir, `.autosentry/incidents/${id}/fix/command_output.txt`);
    expect(output).toContain("checked the cache for demo");
    expect(readState(dir)!.env_overlay).toEqual({ MODE: "safe" });
    expect(readFile(dir, ".autosentry/logs/process.log")).toContain("mode=safe run 2");
  });

  test("a command that hangs is killed at its timeout and the restart policy takes over", async () => {
    const dir = makeProject(
      {
        "job.sh": `${COUNTER}if [ "$n" -eq 1 ]; then echo "fatal: first run" >&2; exit 3; fi\necho ok\n`,
        "hang.sh": "echo started; sleep 1000\n",
      },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.1 }
detectors:
  - { name: fatal, kind: pattern, regex: "fatal: .*" }
rules:
  - { name: hang, match: { detector: fatal }, action: { kind: custom_command, command: [sh, hang.sh], timeout_seconds: 1 } }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    const id = incidentIds(dir)[0]!;
    const output = readFile(dir, `.autosentry/incidents/${id}/fix/command_output.txt`);
    expect(output).toContain("started");
    expect(output.toLowerCase()).toContain("timed out");
    expect(readFile(dir, "runs").trim()).toBe("2");
  });
});

describe("pause and abort as rule actions", () => {
  test("a pause rule stops the child and keeps it stopped until resume", async () => {
    const dir = makeProject(
      { "job.sh": `${COUNTER}echo "disk quota exceeded" >&2\nsleep 1000\n` },
      `process:
  command: [sh, job.sh]
detectors:
  - { name: quota, kind: pattern, regex: "disk quota exceeded" }
rules:
  - { name: wait_for_space, match: { detector: quota }, action: { kind: pause } }
monitor: { settle_seconds: 0.2 }
`,
    );
    const m = start(["run"], { cwd: dir });
    await waitFor("the rule to pause the job", () => readState(dir)?.phase === "paused");
    expect(readState(dir)!.paused_by).toBe("rule wait_for_space");
    expect(readState(dir)!.restarts_total).toBe(0);
    const resumed = await run(["resume"], { cwd: dir });
    expect(resumed.code).toBe(0);
    await waitFor(
      "a second run",
      () => fs.existsSync(path.join(dir, "runs")) && readFile(dir, "runs").trim() === "2",
    );
    m.proc.kill("SIGTERM");
    expect((await m.wait()).code).toBe(143);
  });

  test("an abort rule stops everything with exit 1 and the reason", async () => {
    const dir = makeProject(
      { "job.sh": 'echo "corrupt checkpoint" >&2\nsleep 1000\n' },
      `process:
  command: [sh, job.sh]
detectors:
  - { name: corrupt, kind: pattern, regex: "corrupt checkpoint" }
rules:
  - { name: stop_now, match: { detector: corrupt }, action: { kind: abort } }
monitor: { settle_seconds: 0.2 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(1);
    const st = readState(dir)!;
    expect(st.phase).toBe("aborted");
    expect(st.stop_reason).toMatch(/^Recovery requested abort for incident /);
  });
});

describe("lifecycles", () => {
  test("one_shot: the child's exit code is the monitor's, without a restart", async () => {
    const dir = makeProject(
      { "job.sh": `${COUNTER}exit 5\n` },
      "process:\n  command: [sh, job.sh]\n  lifecycle: one_shot\n",
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(5);
    expect(readFile(dir, "runs").trim()).toBe("1");
    expect(readState(dir)!.stop_reason).toBe("Child exited with code 5 (one_shot)");
  });

  test("restart_always relaunches clean exits without charging max_restarts", async () => {
    const dir = makeProject(
      { "job.sh": `${COUNTER}echo "batch $n"\n` },
      `process:
  command: [sh, job.sh]
  lifecycle: restart_always
  restart_policy: { cooldown_seconds: 0.1, max_restarts: 1 }
`,
    );
    const m = start(["run"], { cwd: dir });
    await waitFor(
      "several relaunches",
      () => fs.existsSync(path.join(dir, "runs")) && Number(readFile(dir, "runs")) >= 4,
    );
    m.proc.kill("SIGTERM");
    expect((await m.wait()).code).toBe(143);
    const st = readState(dir)!;
    expect(st.restarts).toBe(0);
    expect(incidentIds(dir)).toHaveLength(0);
    expect(journal(dir).filter((e) => e.event === "child_started").length).toBeGreaterThanOrEqual(4);
  });
});

describe("operator commands while a decision is being made", () => {
  test("a pause during a slow healing action is confirmed at once and wins over the restart it would have made", async () => {
    const dir = makeProject(
      {
        "job.sh": `${COUNTER}echo "fatal: lost the dataset" >&2\nexit 4\n`,
        "slow-fix.sh": "touch fixing\nsleep 4\necho remounted\n",
      },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.1 }
detectors:
  - { name: fatal, kind: pattern, regex: "fatal: .*" }
rules:
  - { name: remount, match: { detector: fatal }, action: { kind: custom_command, command: [sh, slow-fix.sh] } }
`,
    );
    const m = start(["run"], { cwd: dir });
    await waitFor("the slow fix to start", () => fs.existsSync(path.join(dir, "fixing")));
    const pause = await run(["pause"], { cwd: dir });
    expect(`${pause.code} ${pause.stdout}${pause.stderr}`).toStartWith("0 paused");
    // The fix finishes; the restart it asked for is not even scheduled while paused.
    await waitFor(
      "the fix to finish",
      () => journal(dir).some((e) => e.event === "recovery_applied"),
      30_000,
    );
    await Bun.sleep(1500);
    expect(journal(dir).filter((e) => e.event === "restart_scheduled")).toHaveLength(0);
    expect(readFile(dir, "runs").trim()).toBe("1");
    expect(readState(dir)!.phase).toBe("paused");
    const resumed = await run(["resume"], { cwd: dir });
    expect(resumed.code).toBe(0);
    await waitFor("the second run", () => readFile(dir, "runs").trim() === "2");
    m.proc.kill("SIGTERM");
    await m.wait();
  });
});
