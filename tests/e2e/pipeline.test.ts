/**
 * End-to-end: pipelines (process.stages) run by dist/autosentry in scratch projects.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  alive,
  FIXTURES,
  makeProject,
  readFile,
  readState,
  run,
  start,
  testEnv,
  waitFor,
} from "./helpers.ts";

const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, "pipeline", name), "utf8");

/** prep → train (OOM once, healed by halving BATCH_SIZE) → report. */
const THREE_STAGES = `process:
  restart_policy: { cooldown_seconds: 0.2 }
  stages:
    - { name: prep, command: [sh, prep.sh] }
    - name: train
      command: [sh, train.sh]
      env: { BATCH_SIZE: 64 }
    - { name: report, command: [sh, report.sh] }
detectors:
  - { name: oom, kind: pattern, regex: "CUDA out of memory" }
rules:
  - name: oom_halve_batch
    match: { detector: oom }
    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }
`;

function threeStageProject(extra: Record<string, string> = {}): string {
  return makeProject(
    {
      "prep.sh": fixture("prep.sh"),
      "train.sh": fixture("train.sh"),
      "report.sh": fixture("report.sh"),
      ...extra,
    },
    THREE_STAGES,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
type Json = Record<string, any>;

function latest(dir: string): Json {
  return JSON.parse(readFile(dir, ".autosentry/pipeline.json"));
}

function runRecord(dir: string, id: string): Json {
  return JSON.parse(readFile(dir, `.autosentry/runs/${id}/pipeline.json`));
}

function runEvents(dir: string, id: string): Json[] {
  return readFile(dir, `.autosentry/runs/${id}/events.jsonl`)
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

function ran(dir: string): string[] {
  return fs.existsSync(path.join(dir, "ran.txt")) ? readFile(dir, "ran.txt").trim().split("\n") : [];
}

function pidIn(dir: string, file: string): number {
  return fs.existsSync(path.join(dir, file)) ? Number(readFile(dir, file).trim()) : 0;
}

describe("pipeline: stages in order", () => {
  test("three stages, the second fails once and is healed by a rule, the run completes with its evidence", async () => {
    const dir = threeStageProject();
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(ran(dir)).toEqual(["prep", "train", "train", "report"]);
    expect(readFile(dir, "model.txt").trim()).toBe("model batch=32");

    const rec = latest(dir);
    expect(rec.schema_version).toBe(2);
    expect(rec.pipeline_id).toMatch(/^[0-9a-f]{32}$/);
    expect(rec.status).toBe("complete");
    expect(rec.exit_code).toBe(0);
    expect(rec.parent_run_id).toBeNull();
    expect(rec.stages.map((s: Json) => [s.name, s.status, s.exit_code, s.final_restarts])).toEqual([
      ["prep", "complete", 0, 0],
      ["train", "complete", 0, 1],
      ["report", "complete", 0, 0],
    ]);
    expect(runRecord(dir, rec.pipeline_id)).toEqual(rec);

    // Evidence per stage.
    const train = `.autosentry/runs/${rec.pipeline_id}/stages/train`;
    expect(rec.stages[1].evidence_dir).toBe(path.join(dir, train));
    expect(readFile(dir, `${train}/process.log`)).toContain("CUDA out of memory");
    expect(readFile(dir, `${train}/process.log`)).toContain("train done");
    expect(readFile(dir, `${train}/autosentry.log`)).toContain("oom_halve_batch → restart_with_env");
    const launch = JSON.parse(readFile(dir, `${train}/launch.json`));
    expect(launch.command).toEqual(["sh", "train.sh"]);
    expect(launch.environment_keys).toContain("BATCH_SIZE");
    expect(launch.preflight_errors).toEqual([]);
    expect(JSON.parse(readFile(dir, `${train}/state.json`)).stage).toBe("train");
    const stageEvents = readFile(dir, `${train}/events.jsonl`)
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(new Set(stageEvents.map((e) => e.stage))).toEqual(new Set(["train"]));
    expect(new Set(stageEvents.map((e) => e.run_id))).toEqual(new Set([rec.pipeline_id]));
    expect(stageEvents.map((e) => e.event)).toContain("recovery_applied");
    const reports = fs.readdirSync(path.join(dir, train, "incidents"));
    expect(reports).toHaveLength(1);
    expect(readFile(dir, `${train}/incidents/${reports[0]}/report.md`)).toContain("BATCH_SIZE=32");
    // The incident itself stays in the project's incidents folder.
    expect(fs.existsSync(path.join(dir, ".autosentry/incidents", reports[0]!, "report.md"))).toBe(true);
    expect(fs.existsSync(path.join(dir, `.autosentry/runs/${rec.pipeline_id}/stages/prep/incidents`))).toBe(
      false,
    );

    // The run's journal.
    const events = runEvents(dir, rec.pipeline_id);
    expect(events.map((e) => [e.event, e.stage])).toEqual([
      ["pipeline_started", null],
      ["stage_started", "prep"],
      ["preflight", "prep"],
      ["stage_finished", "prep"],
      ["stage_started", "train"],
      ["preflight", "train"],
      ["stage_finished", "train"],
      ["stage_started", "report"],
      ["preflight", "report"],
      ["stage_finished", "report"],
      ["pipeline_finished", null],
    ]);
    expect(events.at(-1)).toMatchObject({ status: "complete", exit_code: 0 });

    const st = readState(dir)!;
    expect(st.phase).toBe("completed");
    expect(st.stop_reason).toBe("Pipeline completed successfully");
    expect(st.stage).toBeNull();
    expect(st.run_id).toBe(rec.pipeline_id);

    const status = await run(["status"], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`pipeline run ${rec.pipeline_id}: complete`);
    expect(status.stdout).toMatch(/2\s+train\s+complete\s+0\s+1/);
    const json = JSON.parse((await run(["status", "--json"], { cwd: dir })).stdout);
    expect(json.stages.run_id).toBe(rec.pipeline_id);
    expect(json.stages.stages.map((s: Json) => s.status)).toEqual(["complete", "complete", "complete"]);

    // Nothing left to resume.
    const again = await run(["run", "--resume"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      `Nothing to resume: pipeline run ${rec.pipeline_id} completed every stage`,
    );
    expect(ran(dir)).toHaveLength(4);
  });

  test("a failing stage ends the run with its exit code and skips the rest; --resume after the fix skips the first stage", async () => {
    const dir = makeProject(
      {
        "prep.sh": fixture("prep.sh"),
        "flaky.sh": "echo flaky >> ran.txt\nexit 5\n",
        "report.sh": "echo report >> ran.txt\n",
      },
      `process:
  lifecycle: one_shot
  stages:
    - { name: prep, command: [sh, prep.sh] }
    - { name: flaky, command: [sh, flaky.sh] }
    - { name: report, command: [sh, report.sh] }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(5);
    const first = latest(dir);
    expect(first.status).toBe("failed");
    expect(first.reason).toBe("Stage 'flaky' failed: Child exited with code 5 (one_shot)");
    expect(first.stages.map((s: Json) => s.status)).toEqual(["complete", "failed", "skipped"]);
    expect(readState(dir)!.exit_code).toBe(5);

    // The script is fixed; the config (and so every fingerprint) is unchanged.
    fs.writeFileSync(path.join(dir, "flaky.sh"), "echo flaky >> ran.txt\nexit 0\n");
    const r2 = await run(["run", "--resume"], { cwd: dir });
    expect(r2.code).toBe(0);
    expect(ran(dir)).toEqual(["prep", "flaky", "flaky", "report"]);
    const second = latest(dir);
    expect(second.parent_run_id).toBe(first.pipeline_id);
    expect(second.stages[0]).toEqual({ ...first.stages[0], reused_from: first.pipeline_id });
    expect(second.stages.map((s: Json) => s.status)).toEqual(["complete", "complete", "complete"]);
    expect(runEvents(dir, second.pipeline_id).filter((e) => e.event === "stage_reused")).toHaveLength(1);
    // The first run's record and evidence are left as they were.
    expect(runRecord(dir, first.pipeline_id)).toEqual(first);
  });
});

describe("pipeline: interruption and resume", () => {
  test("SIGINT during the third stage stops it (130); --resume skips the completed stages", async () => {
    const dir = threeStageProject({ "hold-report": "" });
    const controller = start(["run"], { cwd: dir });
    const reportPid = await waitFor("the report stage to run", () => pidIn(dir, "report.pid"));
    await waitFor("state.json to show the stage", () => readState(dir)?.child?.pid === reportPid);
    expect(readState(dir)).toMatchObject({ stage: "report", stage_index: 3, stage_count: 3 });
    const status = JSON.parse((await run(["status", "--json"], { cwd: dir })).stdout);
    expect(status.stages.status).toBe("running");
    expect(status.stages.current_stage).toBe("report");
    controller.proc.kill("SIGINT");
    const r = await controller.wait();
    expect(r.code).toBe(130);
    expect(alive(reportPid)).toBe(false);
    const first = latest(dir);
    expect(first.status).toBe("interrupted");
    expect(first.reason).toBe("Pipeline interrupted by SIGINT during stage 'report'");
    expect(first.stages.map((s: Json) => s.status)).toEqual(["complete", "complete", "interrupted"]);
    expect(first.stages[2].exit_code).toBe(130);

    fs.rmSync(path.join(dir, "hold-report"));
    const r2 = await run(["run", "--resume"], { cwd: dir });
    expect(r2.code).toBe(0);
    expect(ran(dir)).toEqual(["prep", "train", "train", "report", "report"]);
    const second = latest(dir);
    expect(second.status).toBe("complete");
    expect(second.parent_run_id).toBe(first.pipeline_id);
    expect(second.stages.map((s: Json) => [s.name, s.status, s.reused_from])).toEqual([
      ["prep", "complete", first.pipeline_id],
      ["train", "complete", first.pipeline_id],
      ["report", "complete", null],
    ]);
    // Skipped stages keep their evidence folders.
    expect(second.stages[0].evidence_dir).toBe(first.stages[0].evidence_dir);
    expect(fs.existsSync(path.join(second.stages[1].evidence_dir, "process.log"))).toBe(true);
  });

  test("a controller killed with SIGKILL during the second stage: --resume stops its orphaned child and skips the first stage", async () => {
    const dir = threeStageProject({ "hold-train": "" });
    const controller = start(["run"], { cwd: dir });
    // Killed as soon as the child is up: state.json may not record it yet (writes are coalesced),
    // and the next controller must find it all the same.
    const orphan = await waitFor("the healed train stage to hold", () => pidIn(dir, "train.pid"));
    controller.proc.kill("SIGKILL");
    await controller.proc.exited;
    expect(alive(orphan)).toBe(true);
    const first = latest(dir);
    expect(first.status).toBe("running");

    const status = JSON.parse((await run(["status", "--json"], { cwd: dir })).stdout);
    expect(status.stages.status).toBe("interrupted (controller not running)");
    expect(status.stages.stages[1].status).toBe("interrupted");

    fs.rmSync(path.join(dir, "train.pid"));
    const resumed = start(["run", "--resume"], { cwd: dir });
    // The new controller stops the child the dead one left running, then runs train again.
    const fresh = await waitFor("train to run again", () => pidIn(dir, "train.pid"));
    expect(fresh).not.toBe(orphan);
    expect(alive(orphan)).toBe(false);
    fs.rmSync(path.join(dir, "hold-train"));
    const r = await resumed.wait();
    expect(r.code).toBe(0);
    expect(ran(dir)).toEqual(["prep", "train", "train", "train", "train", "report"]);

    const old = runRecord(dir, first.pipeline_id);
    expect(old.status).toBe("interrupted");
    expect(old.stages[1].status).toBe("interrupted");
    const second = latest(dir);
    expect(second.parent_run_id).toBe(first.pipeline_id);
    expect(second.stages.map((s: Json) => [s.status, s.reused_from])).toEqual([
      ["complete", first.pipeline_id],
      ["complete", null],
      ["complete", null],
    ]);
  });
});

describe("pipeline: signals and operator commands", () => {
  test("SIGHUP does not leave a stage running unsupervised: the stage is stopped and the run interrupted (129)", async () => {
    const dir = threeStageProject({ "hold-train": "" });
    const controller = start(["run"], { cwd: dir });
    const trainPid = await waitFor("the train stage to hold", () => pidIn(dir, "train.pid"));
    controller.proc.kill("SIGHUP");
    const r = await controller.wait();
    expect(r.code).toBe(129);
    expect(alive(trainPid)).toBe(false);
    const rec = latest(dir);
    expect(rec.status).toBe("interrupted");
    expect(rec.stages.map((s: Json) => s.status)).toEqual(["complete", "interrupted", "pending"]);
    const st = readState(dir)!;
    expect(st.phase).toBe("stopped");
    expect(st.child).toBeNull();
  });

  test("an operator abort during a stage fails the pipeline (130) and the later stages do not run", async () => {
    const dir = threeStageProject({ "hold-train": "" });
    const controller = start(["run"], { cwd: dir });
    await waitFor("the train stage to hold", () => pidIn(dir, "train.pid"));
    expect((await run(["abort"], { cwd: dir })).code).toBe(0);
    const r = await controller.wait();
    expect(r.code).toBe(130);
    expect(ran(dir)).not.toContain("report");
    const rec = latest(dir);
    expect(rec.status).toBe("failed");
    expect(rec.stages.map((s: Json) => s.status)).toEqual(["complete", "failed", "skipped"]);
    expect(rec.stages[1].reason).toContain("Operator abort");
  });
});

describe("pipeline: deadlines, preflight and refusals", () => {
  test("a stage past its deadline is stopped with exit 124 and the later stages do not run", async () => {
    const dir = makeProject(
      {
        "slow.sh": "echo $$ > slow.pid\nwhile true; do sleep 0.1; done\n",
        "after.sh": "echo after >> ran.txt\n",
      },
      `process:
  stop_grace_seconds: 2
  stages:
    - { name: slow, command: [sh, slow.sh], max_stage_seconds: 1 }
    - { name: after, command: [sh, after.sh] }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(124);
    expect(alive(pidIn(dir, "slow.pid"))).toBe(false);
    expect(ran(dir)).toEqual([]);
    const rec = latest(dir);
    expect(rec.status).toBe("failed");
    expect(rec.stages[0]).toMatchObject({
      status: "failed",
      exit_code: 124,
      reason: "Stage deadline exceeded (1 seconds)",
    });
    expect(rec.stages[1].status).toBe("skipped");
    expect(readState(dir)!.stop_reason).toBe("Stage 'slow' failed: Stage deadline exceeded (1 seconds)");
  });

  test("the deadline holds while the stage's monitor is busy healing: the controller kills the stage's process group", async () => {
    const dir = makeProject(
      {
        "slow.sh": 'echo $$ > slow.pid\necho "needs a hand"\nwhile true; do sleep 0.1; done\n',
        // The healing command runs until the test releases it, keeping the monitor busy deciding.
        "heal.sh": "touch healing\nwhile [ ! -f release ]; do sleep 0.1; done\n",
      },
      `process:
  stop_grace_seconds: 0.5
  stage_stop_grace_seconds: 0.5
  stages:
    - { name: slow, command: [sh, slow.sh], max_stage_seconds: 1 }
monitor:
  settle_seconds: 0.1
detectors:
  - { name: help, kind: pattern, regex: "needs a hand" }
rules:
  - { name: heal, match: { detector: help }, action: { kind: custom_command, command: [sh, heal.sh] } }
`,
    );
    const controller = start(["run"], { cwd: dir });
    const pid = await waitFor("the stage to start", () => pidIn(dir, "slow.pid"));
    await waitFor("the healing command to run", () => fs.existsSync(path.join(dir, "healing")));
    await waitFor("the controller to kill the stage after its deadline", () => !alive(pid));
    expect(fs.existsSync(path.join(dir, "release"))).toBe(false);
    fs.writeFileSync(path.join(dir, "release"), "");
    const r = await controller.wait();
    expect(r.code).toBe(124);
    const stage = latest(dir).stages[0];
    expect(stage.reason).toBe("Stage deadline exceeded (1 seconds)");
    expect(stage.cleanup_errors.join("\n")).toContain("the controller killed the child's process group");
  });

  test("a stage that cannot launch fails with 126 without launching; --resume with the variable set continues", async () => {
    const dir = makeProject(
      {
        "prep.sh": fixture("prep.sh"),
        "upload.sh": 'echo "upload to $BUCKET" >> ran.txt\n',
      },
      `process:
  stages:
    - { name: prep, command: [sh, prep.sh] }
    - { name: upload, command: [sh, upload.sh], required_env: [BUCKET] }
`,
    );
    const check = await run(["run", "--check"], { cwd: dir });
    expect(check.code).toBe(126);
    expect(check.stderr).toContain(
      "stage 'upload': Required environment variable is missing or empty: BUCKET",
    );

    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(126);
    expect(r.stderr).toContain("stage 'upload': Required environment variable is missing or empty: BUCKET");
    expect(ran(dir)).toEqual(["prep"]);
    const rec = latest(dir);
    expect(rec.stages[1].status).toBe("failed");
    expect(rec.stages[1].exit_code).toBe(126);
    const evidence = rec.stages[1].evidence_dir;
    expect(JSON.parse(fs.readFileSync(path.join(evidence, "launch.json"), "utf8")).preflight_errors).toEqual([
      "Required environment variable is missing or empty: BUCKET",
    ]);
    expect(fs.existsSync(path.join(evidence, "process.log"))).toBe(false);
    expect(
      runEvents(dir, rec.pipeline_id).find((e) => e.event === "preflight" && e.stage === "upload")?.errors,
    ).toEqual(["Required environment variable is missing or empty: BUCKET"]);

    const env = testEnv({ BUCKET: "s3://b" });
    expect((await run(["run", "--check"], { cwd: dir, env })).stdout).toContain(
      "All launch requirements passed",
    );
    const r2 = await run(["run", "--resume"], { cwd: dir, env });
    expect(r2.code).toBe(0);
    expect(ran(dir)).toEqual(["prep", "upload to s3://b"]);
  });

  test("--resume and --from-stage refuse what they cannot honour, with exit 2 and the reason", async () => {
    const dir = threeStageProject();
    const none = await run(["run", "--resume"], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Cannot resume: there is no earlier pipeline run in this project");
    const unknown = await run(["run", "--from-stage", "nope"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown stage 'nope': the stages are prep, train, report");
    expect(ran(dir)).toEqual([]);

    expect((await run(["run"], { cwd: dir })).code).toBe(0);
    // Editing a rule does not invalidate completed stages...
    const cfgFile = path.join(dir, ".autosentry/autosentry.yaml");
    fs.writeFileSync(cfgFile, THREE_STAGES.replace("cooldown_seconds: 0.2", "cooldown_seconds: 0.3"));
    const fromReport = await run(["run", "--from-stage", "report"], { cwd: dir });
    expect(fromReport.code).toBe(0);
    expect(ran(dir)).toEqual(["prep", "train", "train", "report", "report"]);
    // ...changing what a stage runs does.
    fs.writeFileSync(cfgFile, THREE_STAGES.replace("BATCH_SIZE: 64", "BATCH_SIZE: 16"));
    const changed = await run(["run", "--from-stage", "report"], { cwd: dir });
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain("Cannot skip stage 'train': its command, cwd or environment changed");
    const fromTrain = await run(["run", "--from-stage", "train"], { cwd: dir });
    expect(fromTrain.code).toBe(0);
    expect(ran(dir)).toEqual(["prep", "train", "train", "report", "report", "train", "report"]);

    const single = makeProject({}, "process:\n  command: [sh, -c, 'true']\n");
    const refused = await run(["run", "--resume"], { cwd: single });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--resume and --from-stage apply to pipelines");
  });
});
