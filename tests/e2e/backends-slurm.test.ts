/**
 * End-to-end: the SLURM backend against the real single-node cluster of scripts/ci/slurm-up.sh
 * (SLURM 22.05, no accounting database: `sacct -c` reads jobcomp.txt; MinJobAge 10 s;
 * cred_expire 5 s, so a requeued job waits about 6 s).
 *
 * Submission (classic and --parsable output), a requeue while running (output truncated and
 * followed again), an external scancel, a time limit (resubmitted on its own budget), a job that
 * ended and was purged while no monitor watched (its exit comes from `sacct -c`, nothing is
 * submitted again), and templates/slurm/autosentry-in-job.sbatch (monitor inside the job,
 * checkpoint on SIGUSR1, requeue). The contract shared with the other backends is in
 * backends.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  announceSkip,
  backendEnv,
  childId,
  cleanUp,
  monitor,
  type Project,
  project,
  requireService,
  SKIP_SERVICES,
  sh,
  slurmAccounting,
  slurmState,
  starts,
  touch,
  trackJob,
} from "../fixtures/backends/harness.ts";
import { BIN, journal, makeProject, REPO, readFile, readState, run, waitFor } from "./helpers.ts";

afterAll(cleanUp);
announceSkip("the SLURM backend tests");

const MARKER = `detectors:
  - { name: marker, kind: pattern, regex: "MARK \\\\w+", cooldown_seconds: 0 }
`;

function marks(p: Project, re: RegExp): Array<{ message: string; generation: number }> {
  return journal(p.dir)
    .filter((e) => e.event === "detection" && re.test(String(e.message)))
    .map((e) => ({ message: String(e.message), generation: Number(e.generation) }));
}

function jobIds(p: Project): string[] {
  const ids = starts(p).map((s) => /job=(\d+)/.exec(s)?.[1] ?? "");
  for (const id of ids) trackJob(id);
  return ids;
}

function monitorLog(p: Project): string {
  return readFile(p.dir, ".autosentry/logs/autosentry.log");
}

describe.skipIf(SKIP_SERVICES)("slurm", () => {
  test("the cluster is up (scripts/ci/slurm-up.sh)", () => {
    const r = sh(["scontrol", "ping"]);
    expect(`${r.out}${r.err}`).toContain("is UP");
  });

  test("sbatch's classic and --parsable output are both understood", async () => {
    for (const cmd of [["sbatch"], ["sbatch", "--parsable"]]) {
      const p = project("slurm", { script: "ok.sh" });
      const cfgPath = path.join(p.dir, ".autosentry", "autosentry.yaml");
      const cfg = fs
        .readFileSync(cfgPath, "utf8")
        .replace('command: ["job.sh"]', `command: ${JSON.stringify([...cmd, "job.sh"])}`);
      fs.writeFileSync(cfgPath, cfg);
      const r = await monitor(p).wait(60_000);
      const ids = jobIds(p);
      expect(r.code).toBe(0);
      expect(ids).toHaveLength(1);
      expect(monitorLog(p)).toContain(`as SLURM job ${ids[0]}: ${cmd.join(" ")} job.sh`);
      expect(readState(p.dir)!.last_exit_class).toBe("success");
      expect(readFile(p.dir, `job-${ids[0]}.out`)).toContain(`hello from job ${ids[0]}`);
    }
  }, 120_000);

  test("a requeue while running: same job, its truncated output is followed from the start again", async () => {
    const p = project("slurm", {
      script: "requeue.sh",
      tail: MARKER,
      processYaml: "  restart_policy: { max_identical_failures: 0 }",
    });
    const m = monitor(p);
    await waitFor("the first run's marker", () => marks(p, /MARK first/).length === 1, 60_000);
    const id = await waitFor("the job id", () => childId(p));
    trackJob(id);
    const rq = sh(["scontrol", "requeue", id]);
    expect(rq.code).toBe(0);
    await waitFor("the second run's marker", () => marks(p, /MARK second/).length === 1, 90_000);
    const r = await m.wait(60_000);
    expect(r.code).toBe(0);
    expect(marks(p, /MARK second/)[0]!.generation).toBe(1);
    // One job, run twice; the monitor neither resubmitted nor saw an exit in between.
    expect(starts(p)).toEqual([`start job=${id} run=0`, `start job=${id} run=1`]);
    expect(journal(p.dir).filter((e) => e.event === "child_started")).toHaveLength(1);
    expect(journal(p.dir).filter((e) => e.event === "child_exited")).toHaveLength(1);
    expect(monitorLog(p)).toContain(`SLURM job ${id} was requeued`);
    // The file now holds only the second run.
    expect(readFile(p.dir, `job-${id}.out`).startsWith("MARK second\n")).toBe(true);
  }, 180_000);

  test("a fixed --output file: the next job's follower never reads the previous job's lines", async () => {
    const p = project("slurm", {
      script: "fixed-output.sh",
      tail: MARKER,
      processYaml: "  restart_policy: { cooldown_seconds: 0.5, max_identical_failures: 0 }",
    });
    const r = await monitor(p).wait(90_000);
    expect(jobIds(p)).toHaveLength(2);
    expect(r.code).toBe(0);
    expect(marks(p, /MARK one/)).toEqual([{ message: "MARK one", generation: 1 }]);
    expect(marks(p, /MARK two/)).toEqual([{ message: "MARK two", generation: 2 }]);
    expect(monitorLog(p)).toContain(
      `${p.dir}/train.log already exists: following it once the job has rewritten it`,
    );
  }, 120_000);

  test("a job cancelled outside autosentry (scancel) ends as 'cancelled'", async () => {
    const p = project("slurm", { script: "forever.sh", lifecycle: "one_shot", tail: MARKER });
    const m = monitor(p);
    await waitFor("the job's marker", () => marks(p, /MARK started/).length === 1, 60_000);
    const id = await waitFor("the job id", () => childId(p));
    trackJob(id);
    expect(sh(["scancel", id]).code).toBe(0);
    await m.wait(60_000);
    const st = readState(p.dir)!;
    expect(st.last_exit_class).toBe("cancelled");
    const exited = journal(p.dir).find((e) => e.event === "child_exited")!;
    expect(exited.exit_class).toBe("cancelled");
    expect(monitorLog(p)).toContain(`slurm state CANCELLED`);
    expect(slurmState(id)).toBe("CANCELLED");
  }, 120_000);

  test("a time limit ends the job as 'timeout'; it is resubmitted on timeout_requeues, not max_restarts", async () => {
    const p = project("slurm", { script: "timeout.sh", extra: { timeout_requeues: 1 } });
    const r = await monitor(p).wait(200_000);
    const ids = jobIds(p);
    expect(r.code).toBe(0);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    const rq = journal(p.dir).filter((e) => e.event === "requeued");
    expect(rq).toHaveLength(1);
    expect(rq[0]!.exit_class).toBe("timeout");
    const st = readState(p.dir)!;
    expect(st.phase).toBe("completed");
    expect(st.timeout_requeues).toBe(1);
    expect(st.restarts_total).toBe(0);
    expect(monitorLog(p)).toContain(`SLURM job ${ids[0]} ended: job ${ids[0]}: slurm state TIMEOUT`);
  }, 240_000);

  test("slurmctld unreachable: 'unknown, ask again' (never running or done); the real ending once it answers", async () => {
    const p = project("slurm", { script: "wait-exit4.sh", lifecycle: "one_shot", tail: MARKER });
    const m = monitor(p);
    await waitFor("the job's marker", () => marks(p, /MARK started/).length === 1, 60_000);
    const id = await waitFor("the job id", () => childId(p));
    trackJob(id);
    const ciDir = process.env["AUTOSENTRY_CI_DIR"] ?? "/var/tmp/autosentry-ci";
    const ctld = Number(fs.readFileSync(path.join(ciDir, "slurm", "run", "slurmctld.pid"), "utf8"));
    try {
      process.kill(ctld, "SIGTERM");
      await waitFor(
        "a failed query",
        () => monitorLog(p).includes(`Cannot tell the state of SLURM job ${id}`),
        60_000,
      );
      // The job ends while nobody can ask about it: the monitor must not guess.
      touch(p, "finish");
      await waitFor("the job's last line", () => readFile(p.dir, `job-${id}.out`).includes("finishing"));
      await Bun.sleep(3000);
      expect(journal(p.dir).some((e) => e.event === "child_exited")).toBe(false);
      expect(readState(p.dir)!.phase).toBe("running");
    } finally {
      // Same accounting mode as before (SLURM_ACCT=dbd clusters keep slurmdbd).
      const up = Bun.spawnSync(["bash", path.join(REPO, "scripts", "ci", "slurm-up.sh")], {
        env: { ...process.env, SLURM_ACCT: slurmAccounting() },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(up.exitCode).toBe(0);
    }
    const r = await m.wait(90_000);
    expect(r.code).toBe(4);
    expect(readState(p.dir)!.last_exit_class).toBe("failure");
    expect(monitorLog(p)).toContain(`SLURM answers about job ${id} again`);
  }, 180_000);

  test("a job that ended and was purged while no monitor watched: its exit comes from accounting, nothing is resubmitted", async () => {
    const p = project("slurm", { script: "slow-exit3.sh", lifecycle: "one_shot" });
    const first = monitor(p);
    const id = await waitFor("the job id", () => childId(p), 60_000);
    trackJob(id);
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    // Wait until slurmctld has forgotten the job (MinJobAge): only accounting knows it now.
    await waitFor(
      "the job to end and be purged from slurmctld",
      () =>
        sh(["scontrol", "show", "job", id]).code !== 0 &&
        sh(["squeue", "-h", "-t", "all", "-j", id]).code !== 0,
      90_000,
    );
    const r = await monitor(p).wait(90_000);
    expect(r.code).toBe(3);
    const st = readState(p.dir)!;
    expect(st.last_exit_class).toBe("failure");
    expect(st.last_exit_code).toBe(3);
    expect(starts(p)).toHaveLength(1);
    expect(journal(p.dir).filter((e) => e.event === "child_started")).toHaveLength(1);
    expect(journal(p.dir).some((e) => e.event === "child_adopted")).toBe(true);
    // Without slurmdbd only jobcomp (`sacct -c`) still knows it; with it, plain sacct answers first.
    const source = slurmAccounting() === "dbd" ? "sacct" : "sacct -c";
    expect(monitorLog(p)).toContain(`slurm state FAILED ExitCode=3:0 (${source})`);
  }, 180_000);

  test("templates/slurm: autosentry inside the job checkpoints on SIGUSR1, requeues, and the job resumes", async () => {
    requireService("slurm");
    const dir = makeProject(
      { "train.sh": readFile(path.join(REPO, "tests/fixtures/backends"), "train-ckpt.sh") },
      "process:\n  command: [sh, train.sh]\n",
    );
    const template = path.join(REPO, "templates", "slurm", "autosentry-in-job.sbatch");
    const sub = Bun.spawnSync(["sbatch", "--parsable", template], {
      cwd: dir,
      env: backendEnv({ AUTOSENTRY: BIN, CHECKPOINT_GRACE: "1" }),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(sub.stderr.toString()).toBe("");
    const id = sub.stdout.toString().trim();
    trackJob(id);
    const out = path.join(dir, `autosentry-train-${id}.out`);
    // The supervised command's output goes to the monitor's process.log (inside the job).
    const processLog = path.join(dir, ".autosentry", "logs", "process.log");
    const progress = () => (fs.existsSync(processLog) ? fs.readFileSync(processLog, "utf8") : "");
    await waitFor("training to make progress", () => /^step 5$/m.test(progress()), 60_000);
    // What --signal=B:USR1@300 does before the time limit: SIGUSR1 to the batch script only.
    expect(sh(["scancel", "--batch", "--signal=USR1", id]).code).toBe(0);
    await waitFor("the job to complete after its requeue", () => slurmState(id) === "COMPLETED", 120_000);
    const runs = readFile(dir, "runs.txt").trim().split("\n");
    expect(runs).toHaveLength(2);
    expect(runs[0]).toBe("run 0 from 0");
    const resumed = Number(/^run 1 from (\d+)$/.exec(runs[1]!)?.[1]);
    expect(resumed).toBeGreaterThan(0);
    expect(readFile(dir, "ckpt").trim()).toBe(String(resumed));
    const text = fs.readFileSync(out, "utf8");
    expect(text).toContain(`autosentry-in-job: requeueing job ${id}`);
    expect(text).toContain(`autosentry-in-job: job ${id} run 1 on`);
    expect(text).toContain("autosentry-in-job: monitor exited with code 0");
    expect(progress()).toContain(`checkpoint at step ${resumed}\n`);
    expect(progress()).toContain(`resuming at step ${resumed} (job run 1)`);
    expect(progress()).toContain("training complete");
  }, 180_000);

  test("process.resume.signal to a job without srun steps: said in the log, not waited for; signal_scope full reaches it", async () => {
    const resume =
      '  resume: { glob: "ckpt/step-*.pt", signal: SIGUSR1, signal_wait_seconds: 60, min_age_seconds: 0 }';
    // Default scope (steps): scancel --signal would reach nothing, so nothing is sent or awaited.
    const p = project("slurm", {
      script: "ckpt-signal.sh",
      env: { NO_SRUN: "1" },
      processYaml: resume,
      tail: MARKER,
    });
    const m = monitor(p);
    await waitFor("the job's marker", () => marks(p, /MARK started/).length === 1, 60_000);
    const id = await waitFor("the job id", () => childId(p));
    trackJob(id);
    expect((await run(["pause"], { cwd: p.dir })).code).toBe(0);
    await waitFor("the paused phase", () => readState(p.dir)?.phase === "paused", 90_000);
    expect(monitorLog(p)).toContain(`SIGUSR1 not sent: SLURM job ${id} has no srun steps`);
    expect(fs.existsSync(path.join(p.dir, "signalled.txt"))).toBe(false);
    expect(journal(p.dir).some((e) => e.event === "checkpoint_before_stop")).toBe(false);
    expect((await run(["abort"], { cwd: p.dir })).code).toBe(0);
    await m.wait(90_000);

    // signal_scope full: the batch script's children get it (the program here runs under exec,
    // so the batch step is the program itself).
    const q = project("slurm", {
      script: "ckpt-signal.sh",
      env: { NO_SRUN: "1" },
      extra: { signal_scope: "full" },
      processYaml: resume,
      tail: MARKER,
    });
    const m2 = monitor(q);
    await waitFor("the job's marker", () => marks(q, /MARK started/).length === 1, 60_000);
    const id2 = await waitFor("the job id", () => childId(q));
    trackJob(id2);
    expect((await run(["pause"], { cwd: q.dir })).code).toBe(0);
    await waitFor("the paused phase", () => readState(q.dir)?.phase === "paused", 90_000);
    expect(readFile(q.dir, "signalled.txt").trim()).toBe("usr1");
    expect(monitorLog(q)).toContain(`scancel --signal=USR1 --full ${id2}`);
    const saved = journal(q.dir).filter((e) => e.event === "checkpoint_before_stop");
    expect(saved.map((e) => e.step)).toEqual([9]);
    expect((await run(["abort"], { cwd: q.dir })).code).toBe(0);
    await m2.wait(90_000);
  }, 240_000);
});
