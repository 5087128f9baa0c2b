/**
 * End-to-end: one contract for every supervisor backend, run against dist/autosentry with the real
 * services (a SLURM cluster, docker → podman). Each scenario runs for the backends it applies to:
 * start and follow output, detect a traceback and heal it with restart_with_env, report the real
 * exit class, survive a SIGKILLed monitor without starting a second child, pause/resume, abort.
 * attach cannot restart what it did not start: its variants check that it says so, that an ended
 * process is `unknown` and that only abort with allow_kill touches the process.
 *
 * Needs scripts/ci/slurm-up.sh and scripts/ci/podman-up.sh (scripts/test.sh runs them);
 * AUTOSENTRY_SKIP_SERVICES=1 skips the slurm and docker variants.
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  announceSkip,
  childId,
  childRunning,
  cleanUp,
  type Kind,
  launchAttached,
  monitor,
  type Project,
  project,
  SKIP_SERVICES,
  slurmState,
  starts,
  touch,
  trackJob,
} from "../fixtures/backends/harness.ts";
import { alive, incidentIds, journal, readFile, readState, run, waitFor } from "./helpers.ts";

afterAll(cleanUp);
announceSkip("the slurm and docker variants of the backend contract");

const SERVICE_KINDS: Kind[] = ["slurm", "docker"];
const skip = (k: Kind) => SKIP_SERVICES && SERVICE_KINDS.includes(k);

/** Detections of the journal whose message matches, with their generation. */
function marks(p: Project, re: RegExp): Array<{ message: string; generation: number }> {
  return journal(p.dir)
    .filter((e) => e.event === "detection" && re.test(String(e.message)))
    .map((e) => ({ message: String(e.message), generation: Number(e.generation) }));
}

function trackJobs(p: Project): void {
  if (p.kind !== "slurm") return;
  for (const s of starts(p)) trackJob(/job=(\d+)/.exec(s)?.[1] ?? null);
  trackJob(childId(p));
}

const MARKER = `detectors:
  - { name: marker, kind: pattern, regex: "MARK \\\\w+", cooldown_seconds: 0 }
`;

describe.each(["local", "slurm", "docker"] as const)("%s: heal and exit classes", (kind) => {
  test.skipIf(skip(kind))(
    "a traceback is detected and healed with restart_with_env; the overlay reaches the next run, which completes",
    async () => {
      const p = project(kind, {
        script: "heal.sh",
        env: { BATCH_SIZE: "64" },
        processYaml: "  restart_policy: { cooldown_seconds: 0.5 }",
        tail: `detectors:
  - kind: traceback
rules:
  - name: oom_halve_batch
    match: { detector: traceback, exception_type: OutOfMemoryError }
    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }
`,
      });
      const r = await monitor(p).wait(150_000);
      trackJobs(p);
      expect(r.code).toBe(0);
      expect(readFile(p.dir, "seen.txt").trim().split("\n")).toEqual(["64", "32"]);
      const st = readState(p.dir)!;
      expect(st.phase).toBe("completed");
      expect(st.last_exit_class).toBe("success");
      expect(st.env_overlay).toEqual({ BATCH_SIZE: "32" });
      const ids = incidentIds(p.dir);
      expect(ids).toHaveLength(1);
      const report = readFile(p.dir, `.autosentry/incidents/${ids[0]}/report.md`);
      expect(report).toContain("torch.OutOfMemoryError: CUDA out of memory");
      expect(report).toContain("oom_halve_batch");
      // The first run was stopped while it held on: two starts, each a new job/container.
      expect(starts(p)).toHaveLength(2);
      const started = journal(p.dir).filter((e) => e.event === "child_started");
      expect(started).toHaveLength(2);
    },
    180_000,
  );

  test.skipIf(skip(kind))(
    "a failing job reports its real exit code and class",
    async () => {
      const p = project(kind, { script: "exit3.sh", lifecycle: "one_shot" });
      const r = await monitor(p).wait(120_000);
      trackJobs(p);
      expect(r.code).toBe(3);
      const st = readState(p.dir)!;
      expect(st.last_exit_code).toBe(3);
      expect(st.last_exit_class).toBe("failure");
      const ids = incidentIds(p.dir);
      expect(ids).toHaveLength(1);
      expect(readFile(p.dir, `.autosentry/incidents/${ids[0]}/report.md`)).toContain(
        "process exited with code 3",
      );
      expect(readFile(p.dir, `.autosentry/incidents/${ids[0]}/log_excerpt.txt`)).toContain(
        "fatal: bad shard",
      );
    },
    120_000,
  );
});

describe.each(["local", "slurm", "docker"] as const)("%s: lifecycle", (kind) => {
  test.skipIf(skip(kind))(
    "survives a SIGKILLed monitor without a second child; pause stops it gracefully, resume starts a new one, abort ends it",
    async () => {
      const p = project(kind, {
        script: "forever.sh",
        processYaml: "  restart_policy: { max_identical_failures: 0 }",
        tail: MARKER,
      });
      const first = monitor(p);
      await waitFor("the first child's output", () => marks(p, /MARK started/).length === 1, 60_000);
      const id1 = await waitFor("the child record", () => childId(p), 30_000);
      trackJobs(p);
      expect(childRunning(kind, id1)).toBe(true);

      // 1. The monitor dies; the child does not, and a new monitor follows it.
      first.proc.kill("SIGKILL");
      await first.proc.exited;
      expect(childRunning(kind, id1)).toBe(true);
      const second = monitor(p);
      await waitFor("re-adoption", () => journal(p.dir).some((e) => e.event === "child_adopted"), 30_000);
      touch(p, "poke");
      await waitFor("output after the re-adoption", () => marks(p, /MARK poked/).length === 1, 30_000);
      expect(marks(p, /MARK poked/)[0]!.generation).toBe(1);
      expect(starts(p)).toHaveLength(1);
      expect(journal(p.dir).filter((e) => e.event === "child_started")).toHaveLength(1);
      expect(childId(p)).toBe(id1);

      // 2. pause: the child is stopped, with a SIGTERM it can handle.
      const pause = await run(["pause", "-m", "maintenance"], { cwd: p.dir });
      expect(`${pause.code} ${pause.stdout}${pause.stderr}`).toStartWith("0 paused");
      await waitFor("the paused phase", () => readState(p.dir)?.phase === "paused", 60_000);
      await waitFor("the child to be gone", () => !childRunning(kind, id1), 60_000);
      expect(readFile(p.dir, "stopped.txt").trim()).toBe("term");
      // SLURM: stopped the way a user's scancel does, so accounting says so.
      if (kind === "slurm") expect(slurmState(id1)).toBe("CANCELLED");

      // 3. resume: a new child, whose output is followed like the first one's.
      const resume = await run(["resume"], { cwd: p.dir });
      expect(resume.code).toBe(0);
      await waitFor(
        "output of the resumed child",
        () => marks(p, /MARK started/).some((m) => m.generation === 2),
        60_000,
      );
      const id2 = await waitFor("the new child record", () => {
        const id = childId(p);
        return id !== id1 ? id : null;
      });
      trackJobs(p);
      expect(starts(p)).toHaveLength(2);
      expect(childRunning(kind, id2)).toBe(true);

      // 4. abort: the monitor ends (130) and so does the child.
      const abort = await run(["abort"], { cwd: p.dir });
      expect(abort.code).toBe(0);
      const r = await second.wait(90_000);
      expect(r.code).toBe(130);
      await waitFor("the child to be gone after abort", () => !childRunning(kind, id2), 60_000);
      expect(readState(p.dir)!.phase).toBe("aborted");
    },
    240_000,
  );
});

describe("attach", () => {
  test("follows the attached process's log; restart actions are refused; an ended process is 'unknown'", async () => {
    const p = project("attach", {
      script: "forever.sh",
      lifecycle: "one_shot",
      tail: `detectors:
  - { name: marker, kind: pattern, regex: "MARK \\\\w+", cooldown_seconds: 0 }
rules:
  - { name: restart_on_mark, match: { detector: marker }, action: { kind: restart } }
`,
    });
    const pid = launchAttached(p);
    await waitFor("the job's pid file", () => fs.existsSync(path.join(p.dir, "job.pid")));
    const m = monitor(p);
    await waitFor("attached", () => readState(p.dir)?.phase === "running");
    touch(p, "poke");
    await waitFor("the poked line", () => marks(p, /MARK poked/).length === 1, 30_000);
    const ids = await waitFor("the incident's outcome", () => {
      const ids = incidentIds(p.dir);
      return ids.length === 1 &&
        fs.existsSync(path.join(p.dir, ".autosentry/incidents", ids[0]!, "fix/action.json"))
        ? ids
        : null;
    });
    expect(readFile(p.dir, `.autosentry/incidents/${ids[0]}/report.md`)).toContain(
      "the attach backend cannot restart the process",
    );
    expect(alive(pid)).toBe(true);
    // The process ends on its own with code 0: still not a success, nobody can know its code.
    touch(p, "finish");
    const r = await m.wait(60_000);
    expect(r.code).toBe(1);
    const st = readState(p.dir)!;
    expect(st.last_exit_class).toBe("unknown");
    expect(st.phase).toBe("stopped");
    expect(journal(p.dir).filter((e) => e.event === "child_started")).toHaveLength(1);
  }, 90_000);

  test("survives a SIGKILLed monitor; pause and shutdown never touch the process", async () => {
    const p = project("attach", { script: "forever.sh", tail: MARKER });
    const pid = launchAttached(p);
    await waitFor("the job's pid file", () => fs.existsSync(path.join(p.dir, "job.pid")));
    const first = monitor(p);
    await waitFor("attached", () => readState(p.dir)?.child?.pid === pid);
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    touch(p, "poke");
    const second = monitor(p);
    await waitFor("re-adoption", () => journal(p.dir).some((e) => e.event === "child_adopted"));
    // Written while no monitor watched: read from where the first monitor stopped.
    await waitFor("the poked line", () => marks(p, /MARK poked/).length === 1, 30_000);
    expect(journal(p.dir).filter((e) => e.event === "child_started")).toHaveLength(1);

    const pause = await run(["pause"], { cwd: p.dir });
    expect(`${pause.code} ${pause.stdout}${pause.stderr}`).toStartWith("0 paused");
    await waitFor("paused", () => readState(p.dir)?.phase === "paused");
    expect(alive(pid)).toBe(true);
    expect(fs.existsSync(path.join(p.dir, "stopped.txt"))).toBe(false);
    expect((await run(["resume"], { cwd: p.dir })).code).toBe(0);
    await waitFor("watching again", () => readState(p.dir)?.phase === "running");
    touch(p, "poke");
    await waitFor("lines after resume", () => marks(p, /MARK poked/).some((x) => x.generation === 2), 30_000);

    second.proc.kill("SIGTERM");
    expect((await second.wait()).code).toBe(143);
    expect(alive(pid)).toBe(true);
    expect(fs.existsSync(path.join(p.dir, "stopped.txt"))).toBe(false);
    process.kill(-pid, "SIGKILL");
  }, 90_000);

  test("abort signals the process only with allow_kill", async () => {
    for (const allowKill of [false, true]) {
      const p = project("attach", { script: "forever.sh", allowKill });
      const pid = launchAttached(p);
      await waitFor("the job's pid file", () => fs.existsSync(path.join(p.dir, "job.pid")));
      const m = monitor(p);
      await waitFor("attached", () => readState(p.dir)?.phase === "running");
      expect((await run(["abort"], { cwd: p.dir })).code).toBe(0);
      expect((await m.wait()).code).toBe(130);
      if (allowKill) {
        await waitFor("the process to be killed", () => !alive(pid));
        expect(readFile(p.dir, "stopped.txt").trim()).toBe("term");
      } else {
        expect(alive(pid)).toBe(true);
        expect(fs.existsSync(path.join(p.dir, "stopped.txt"))).toBe(false);
        process.kill(-pid, "SIGKILL");
      }
    }
  }, 60_000);
});

const RESUME =
  '  resume: { glob: "ckpt/step-*.pt", signal: SIGUSR1, signal_wait_seconds: 60, min_age_seconds: 0 }';

describe.each(["local", "slurm", "docker"] as const)("%s: the checkpoint signal", (kind) => {
  test.skipIf(skip(kind))(
    "pause sends process.resume.signal to the job, waits for its new checkpoint, then stops it",
    async () => {
      const p = project(kind, { script: "ckpt-signal.sh", processYaml: RESUME, tail: MARKER });
      const m = monitor(p);
      await waitFor("the child's output", () => marks(p, /MARK started/).length === 1, 60_000);
      const id = await waitFor("the child record", () => childId(p), 30_000);
      trackJobs(p);
      expect(fs.existsSync(path.join(p.dir, "ckpt"))).toBe(false);

      const pause = await run(["pause", "-m", "checkpoint first"], { cwd: p.dir });
      expect(`${pause.code} ${pause.stdout}${pause.stderr}`).toStartWith("0 paused");
      await waitFor("the paused phase", () => readState(p.dir)?.phase === "paused", 90_000);
      await waitFor("the child to be gone", () => !childRunning(kind, id), 60_000);
      // The signal reached the program (not only a wrapper), which checkpointed, and only then
      // came the stop.
      expect(readFile(p.dir, "signalled.txt").trim()).toBe("usr1");
      expect(readFile(p.dir, "ckpt/step-9.pt").trim()).toBe("9");
      expect(readFile(p.dir, "stopped.txt").trim()).toBe("term");
      const saved = journal(p.dir).filter((e) => e.event === "checkpoint_before_stop");
      expect(saved).toHaveLength(1);
      expect(String(saved[0]!.checkpoint)).toEndWith(path.join("ckpt", "step-9.pt"));
      expect(saved[0]!.step).toBe(9);

      const abort = await run(["abort"], { cwd: p.dir });
      expect(abort.code).toBe(0);
      await m.wait(90_000);
    },
    240_000,
  );
});
