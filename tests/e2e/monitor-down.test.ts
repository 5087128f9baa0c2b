/**
 * End-to-end: what happens to the child while no monitor runs (issue 16 finding 4). The capture
 * process outlives a SIGKILLed monitor, records the child's exit, and the next `run` handles that
 * exit as the failure it was, with the output nobody had read.
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  alive,
  BIN,
  incidentIds,
  journal,
  makeProject,
  readFile,
  readState,
  reapProject,
  run,
  start,
  testEnv,
  waitFor,
} from "./helpers.ts";

// Ticks until `go` exists, then (once) prints a traceback and exits 1; later generations just tick.
const JOB = `echo $$ > child.pid
while [ ! -e go ]; do echo tick; sleep 0.1; done
if [ ! -e crashed-once ]; then
  : > crashed-once
  echo 'Traceback (most recent call last):'
  echo '  File "train.py", line 3, in <module>'
  echo 'RuntimeError: lost while nobody watched'
  exit 1
fi
while :; do echo tick; sleep 0.1; done
`;

test("a failure while the monitor is down: the next run scans the unread log, files the incident and counts the restart", async () => {
  const dir = makeProject(
    { "job.sh": JOB },
    "process:\n  command: [sh, job.sh]\n  restart_policy: { cooldown_seconds: 0 }\ndetectors:\n  - kind: traceback\n",
  );
  try {
    const first = start(["run"], { cwd: dir });
    const childPid = await waitFor("the child to start", () => {
      const p = fs.existsSync(path.join(dir, "child.pid")) && Number(readFile(dir, "child.pid"));
      return p && readState(dir)?.child?.pid === p ? p : 0;
    });
    first.proc.kill("SIGKILL");
    await first.proc.exited;

    // The child fails with nobody watching; the capture process records its exit.
    fs.writeFileSync(path.join(dir, "go"), "");
    await waitFor("the child to end", () => !alive(childPid));
    const exitFile = readState(dir)!.child.details.exitFile as string;
    await waitFor("the exit file", () => fs.existsSync(exitFile));
    expect(JSON.parse(fs.readFileSync(exitFile, "utf8"))).toMatchObject({ code: 1 });
    expect(incidentIds(dir)).toEqual([]);

    const second = start(["run"], { cwd: dir });
    await waitFor("the recovered exit", () => journal(dir).some((e) => e.event === "child_exit_recovered"));
    await waitFor("the incident and the restart", () =>
      journal(dir).some((e) => e.event === "child_started" && e.generation === 2),
    );
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    const incident = JSON.parse(readFile(dir, `.autosentry/incidents/${ids[0]}/incident.json`));
    expect(incident.generation).toBe(1);
    expect(incident.message).toContain("lost while nobody watched");
    expect(readFile(dir, `.autosentry/incidents/${ids[0]}/log_excerpt.txt`)).toContain("Traceback");
    // state.json is written a moment later than the journal.
    const st = await waitFor("the restart counted in state.json", () => {
      const s = readState(dir);
      return s?.restarts_total === 1 ? s : null;
    });
    expect(st.last_exit_code).toBe(1);
    // No initial start of a fresh run: the restart is the policy's answer to the failure.
    expect(
      journal(dir)
        .filter((e) => e.event === "child_start_requested")
        .map((e) => e.why),
    ).toEqual(["initial start", expect.stringMatching(/^restart/)]);

    expect((await run(["abort"], { cwd: dir })).code).toBe(0);
    await second.wait();
  } finally {
    reapProject(dir);
  }
}, 120_000);

test("a monitor whose executable was replaced on disk keeps starting its capture process (/proc/self/exe)", async () => {
  const dir = makeProject(
    { "job.sh": "echo $$ >> pids; while :; do echo tick; sleep 0.1; done\n" },
    "process:\n  command: [sh, job.sh]\n",
  );
  // The monitor runs from a copy of the binary that is then deleted (as `autosentry update` or a
  // package upgrade replaces it): a new capture process must still come from the running image.
  const bin = path.join(dir, "autosentry-copy");
  fs.copyFileSync(BIN, bin);
  fs.chmodSync(bin, 0o755);
  const monitor = Bun.spawn([bin, "run"], { cwd: dir, env: testEnv(), stdout: "ignore", stderr: "ignore" });
  try {
    await waitFor("the first child", () => journal(dir).some((e) => e.event === "child_started"));
    fs.rmSync(bin);
    // pause closes the capture process; resume needs a new one.
    expect((await run(["pause", "-m", "binary replaced"], { cwd: dir })).code).toBe(0);
    await waitFor("paused", () => readState(dir)?.phase === "paused");
    expect((await run(["resume"], { cwd: dir })).code).toBe(0);
    await waitFor("the second child", () =>
      journal(dir).some((e) => e.event === "child_started" && e.generation === 2),
    );
    expect(journal(dir).some((e) => e.event === "child_start_failed")).toBe(false);
    expect((await run(["abort"], { cwd: dir })).code).toBe(0);
    await monitor.exited;
  } finally {
    monitor.kill("SIGKILL");
    reapProject(dir);
  }
}, 120_000);
