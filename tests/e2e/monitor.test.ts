/**
 * End-to-end: dist/autosentry supervising real jobs in scratch projects.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  alive,
  FIXTURES,
  incidentIds,
  journal,
  makeProject,
  readFile,
  readState,
  run,
  start,
  testEnv,
  waitFor,
} from "./helpers.ts";

const job = (name: string) => fs.readFileSync(path.join(FIXTURES, "jobs", name), "utf8");

describe("run: crashes and rules", () => {
  test("a crash is restarted by the restart policy and the run then completes", async () => {
    const dir = makeProject(
      { "job.sh": job("crash-once.sh") },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.2 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFile(dir, "runs").trim()).toBe("2");
    const st = readState(dir)!;
    expect(st.phase).toBe("completed");
    expect(st.stop_reason).toBe("Child completed successfully");
    expect(st.restarts_total).toBe(1);
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    expect(readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`)).toContain(
      "process exited with code 3",
    );
    const events = journal(dir).map((e) => e.event);
    expect(events).toContain("restart_scheduled");
    expect(events.filter((e) => e === "child_started")).toHaveLength(2);
  });

  test("the OOM rule halves BATCH_SIZE from process.env, and the next run sees it", async () => {
    const dir = makeProject(
      { "job.mjs": job("oom.mjs") },
      `process:
  command: [node, job.mjs]
  env: { BATCH_SIZE: 64 }
  restart_policy: { cooldown_seconds: 0.2 }
detectors:
  - { name: oom, kind: pattern, regex: "CUDA out of memory" }
  - kind: traceback
rules:
  - name: oom_halve_batch
    match: { detector: oom }
    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFile(dir, "seen.txt").trim().split("\n")).toEqual(["64", "32", "16"]);
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(2);
    const report = readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`);
    expect(report).toContain("oom_halve_batch");
    expect(report).toContain("BATCH_SIZE=32");
    expect(report).toContain("torch.OutOfMemoryError: CUDA out of memory");
    const action = JSON.parse(readFile(dir, `.autosentry/incidents/${ids[0]}/fix/action.json`));
    expect(action.kind).toBe("restart_with_env");
    expect(readState(dir)!.env_overlay).toEqual({ BATCH_SIZE: "16" });
  });

  test("a stall (alive, printing, but no progress) is restarted by a rule", async () => {
    const dir = makeProject(
      { "job.mjs": job("stall.mjs") },
      `process:
  command: [node, job.mjs]
detectors:
  - { name: training_stall, kind: stall, metric_regex: 'step (\\d+)', no_progress_seconds: 2 }
rules:
  - { name: stall_restart, match: { detector: training_stall }, action: { kind: restart } }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFile(dir, "runs")).toBe("2");
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    expect(ids[0]).toContain("anomaly-training_stall");
    expect(readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`)).toContain("stall: no progress");
  });

  test("max_restarts exhausted: a clean stop with the reason in status", async () => {
    const dir = makeProject(
      { "job.sh": "echo failing; exit 7\n" },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.1, max_restarts: 2, max_identical_failures: 0 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(7);
    const st = readState(dir)!;
    expect(st.phase).toBe("gave_up");
    expect(st.stop_reason).toBe("Max restarts reached (2/2)");
    expect(st.restarts_total).toBe(2);
    const status = await run(["status"], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("stop reason:");
    expect(status.stdout).toContain("Max restarts reached (2/2)");
    const json = JSON.parse((await run(["status", "--json"], { cwd: dir })).stdout);
    expect(json.stop_reason).toBe("Max restarts reached (2/2)");
    expect(json.monitor.running).toBe(false);
  });

  test("identical failures stop the loop even with unlimited restarts", async () => {
    const dir = makeProject(
      { "job.sh": 'echo "fatal: step $RANDOM out of range" >&2; exit 1\n' },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.05, max_restarts: 0, max_identical_failures: 3, backoff: fixed }
detectors:
  - { name: fatal, kind: pattern, regex: "fatal: .*" }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(1);
    const st = readState(dir)!;
    expect(st.stop_reason).toMatch(/^Identical failure limit exceeded \(4, cap 3\)/);
    expect(st.restarts_total).toBe(3);
  });

  test("an exit code listed in no_retry_exit_codes is not retried", async () => {
    const dir = makeProject(
      { "job.sh": "exit 78\n" },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.1, no_retry_exit_codes: [78] }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(78);
    expect(readState(dir)!.stop_reason).toContain("no_retry_exit_codes");
    expect(readState(dir)!.restarts_total).toBe(0);
  });
});

describe("run: crash safety", () => {
  test("a monitor killed with SIGKILL is replaced by one that re-adopts the child, not a second copy", async () => {
    const dir = makeProject({ "job.sh": job("forever.sh") }, "process:\n  command: [sh, job.sh]\n");
    const first = start(["run"], { cwd: dir });
    const childPid = await waitFor("the child to start", () => {
      const p = fs.existsSync(path.join(dir, "child.pid")) && Number(readFile(dir, "child.pid"));
      return p && readState(dir)?.child?.pid === p ? p : 0;
    });
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    expect(alive(childPid)).toBe(true);

    const second = start(["run"], { cwd: dir });
    await waitFor("re-adoption", () => journal(dir).some((e) => e.event === "child_adopted"));
    const ticksBefore = (readFile(dir, ".autosentry/logs/process.log").match(/tick/g) ?? []).length;
    await waitFor("new output followed", async () => {
      const st = readState(dir);
      return (
        st?.monitor?.pid === second.pid &&
        (readFile(dir, ".autosentry/logs/process.log").match(/tick/g) ?? []).length > ticksBefore + 3
      );
    });
    // Still the same child: no second copy was started.
    expect(Number(readFile(dir, "child.pid"))).toBe(childPid);
    expect(journal(dir).filter((e) => e.event === "child_started")).toHaveLength(1);

    const abort = await run(["abort"], { cwd: dir });
    expect(abort.code).toBe(0);
    const r = await second.wait();
    expect(r.code).toBe(130);
    await waitFor(
      "the child and its worker to be gone",
      () => !alive(childPid) && !alive(Number(readFile(dir, "worker.pid"))),
    );
  });

  test("a second monitor for the same project is refused", async () => {
    const dir = makeProject({ "job.sh": job("forever.sh") }, "process:\n  command: [sh, job.sh]\n");
    const first = start(["run"], { cwd: dir });
    await waitFor("the child to start", () => readState(dir)?.phase === "running");
    const second = await run(["run"], { cwd: dir });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("Another autosentry monitor is running for this project");
    first.proc.kill("SIGTERM");
    const r = await first.wait();
    expect(r.code).toBe(143);
    expect(readState(dir)!.stop_reason).toBe("Termination signal received (SIGTERM)");
    expect(alive(Number(readFile(dir, "child.pid")))).toBe(false);
  });

  test("pause is durable across monitor restarts until resume", async () => {
    const dir = makeProject({ "job.sh": job("forever.sh") }, "process:\n  command: [sh, job.sh]\n");
    const first = start(["run"], { cwd: dir });
    await waitFor("the child to start", () => readState(dir)?.phase === "running");
    const childPid = Number(readFile(dir, "child.pid"));
    const p = await run(["pause", "-m", "maintenance"], { cwd: dir });
    expect(p.code).toBe(0);
    expect(p.stdout).toContain("paused");
    expect(alive(childPid)).toBe(false);
    first.proc.kill("SIGKILL");
    await first.proc.exited;

    const second = start(["run"], { cwd: dir });
    await waitFor("the new monitor to come up paused", () => {
      const st = readState(dir);
      return st?.monitor?.pid === second.pid && st?.phase === "paused";
    });
    expect(journal(dir).filter((e) => e.event === "child_started")).toHaveLength(1);
    const resume = await run(["resume"], { cwd: dir });
    expect(resume.code).toBe(0);
    await waitFor(
      "a new child",
      () => Number(fs.readFileSync(path.join(dir, "child.pid"), "utf8")) !== childPid,
    );
    expect(readState(dir)!.restarts_total).toBe(0);
    second.proc.kill("SIGINT");
    expect((await second.wait()).code).toBe(130);
  });
});

describe("run: input limits", () => {
  test("a 50 MB line without a newline is cut with a marker, memory stays bounded, a later traceback is detected", async () => {
    const dir = makeProject(
      { "job.mjs": job("longline.mjs") },
      `process:
  command: [node, job.mjs]
  lifecycle: one_shot
detectors:
  - kind: traceback
`,
    );
    const monitor = start(["run"], { cwd: dir, env: testEnv() });
    let peakKiB = 0;
    const sampler = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${monitor.pid}/status`, "utf8"));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {}
    }, 50);
    const r = await monitor.wait();
    clearInterval(sampler);
    expect(r.code).toBe(1);
    const log = readFile(dir, ".autosentry/logs/process.log");
    expect(log).toContain("[autosentry: line cut");
    expect(log).toContain("after the long line");
    expect(log.length).toBeLessThan(2 * 1024 * 1024);
    // The monitor never held the 50 MB line: its peak RSS stays far below it.
    expect(peakKiB).toBeGreaterThan(0);
    expect(peakKiB).toBeLessThan(200 * 1024);
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    expect(readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`)).toContain(
      "ValueError: bad input after the long line",
    );
  });
});

describe("config errors", () => {
  test("a bad config prints file:line:col: path: message and exits 2, without a stack trace", async () => {
    const dir = makeProject(
      {},
      `process:
  command: [sh, -c, "true"]
  comand: oops
rules:
  - match: { detector: exit_code }
    action:
      kind: restrat
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '.autosentry/autosentry.yaml:3:3: process.comand: unknown key (did you mean "command"?)',
    );
    expect(r.stderr).toContain(
      '.autosentry/autosentry.yaml:7:13: rules[0].action.kind: expected one of restart, restart_with_env, pause, abort, custom_command (got "restrat")',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("run --check reports launch problems with exit 126", async () => {
    const dir = makeProject({}, "process:\n  command: [no-such-tool-xyz]\n  required_env: [DATA_DIR]\n");
    const r = await run(["run", "--check"], { cwd: dir });
    expect(r.code).toBe(126);
    expect(r.stderr).toContain("Executable not found or not executable: 'no-such-tool-xyz'");
    expect(r.stderr).toContain("Required environment variable is missing or empty: DATA_DIR");
    const ok = await run(["run", "--check"], {
      cwd: makeProject({}, "process:\n  command: [sh, -c, 'true']\n"),
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("All launch requirements passed");
  });
});
