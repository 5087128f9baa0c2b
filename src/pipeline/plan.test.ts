import { describe, expect, test } from "bun:test";
import { type PlanError, planRun } from "./plan.ts";
import type { PipelineRecord, StageRecord } from "./record.ts";

const stage = (name: string, status: StageRecord["status"], fingerprint = `fp-${name}`): StageRecord => ({
  name,
  status,
  started_at: "2026-01-01T00:00:00.000Z",
  ended_at: "2026-01-01T00:01:00.000Z",
  exit_code: status === "complete" ? 0 : 1,
  final_restarts: 0,
  reason: null,
  fingerprint,
  evidence_dir: `/p/.autosentry/runs/${"a".repeat(32)}/stages/${name}`,
  cleanup_errors: [],
  reused_from: null,
});

const record = (stages: StageRecord[], id = "a".repeat(32)): PipelineRecord => ({
  schema_version: 2,
  pipeline_id: id,
  parent_run_id: null,
  started_at: "2026-01-01T00:00:00.000Z",
  ended_at: null,
  status: "interrupted",
  current_stage: null,
  exit_code: null,
  reason: null,
  controller_pid: 1,
  stages,
});

const configured = [
  { name: "prep", fingerprint: "fp-prep" },
  { name: "train", fingerprint: "fp-train" },
  { name: "report", fingerprint: "fp-report" },
];

function planError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect((err as PlanError).name).toBe("PlanError");
    return (err as Error).message;
  }
  throw new Error("expected a PlanError");
}

describe("planRun", () => {
  test("a plain run starts at the first stage and links no parent", () => {
    const prior = record([stage("prep", "complete"), stage("train", "failed"), stage("report", "skipped")]);
    expect(planRun({ stages: configured, prior, resume: false })).toEqual({
      kind: "run",
      start: 0,
      reused: [],
      parentRunId: null,
    });
  });

  test("--resume starts at the first stage not completed and reuses the ones before it", () => {
    const prior = record([
      stage("prep", "complete"),
      stage("train", "interrupted"),
      stage("report", "pending"),
    ]);
    const plan = planRun({ stages: configured, prior, resume: true });
    expect(plan.kind).toBe("run");
    if (plan.kind !== "run") return;
    expect(plan.start).toBe(1);
    expect(plan.parentRunId).toBe(prior.pipeline_id);
    expect(plan.reused).toHaveLength(1);
    expect(plan.reused[0]!.name).toBe("prep");
    expect(plan.reused[0]!.status).toBe("complete");
    expect(plan.reused[0]!.reused_from).toBe(prior.pipeline_id);
    expect(plan.reused[0]!.evidence_dir).toBe(prior.stages[0]!.evidence_dir);
  });

  test("a stage reused twice keeps pointing at the run that really ran it", () => {
    const first = "b".repeat(32);
    const prior = record([
      { ...stage("prep", "complete"), reused_from: first },
      stage("train", "failed"),
      stage("report", "skipped"),
    ]);
    const plan = planRun({ stages: configured, prior, resume: true });
    expect(plan.kind === "run" && plan.reused[0]!.reused_from).toBe(first);
  });

  test("a stage still recorded as running (its controller died) is run again", () => {
    const prior = record([stage("prep", "complete"), stage("train", "running"), stage("report", "pending")]);
    const plan = planRun({ stages: configured, prior, resume: true });
    expect(plan.kind === "run" && plan.start).toBe(1);
  });

  test("--resume of a run that completed every stage has nothing to do", () => {
    const prior = record([
      stage("prep", "complete"),
      stage("train", "complete"),
      stage("report", "complete"),
    ]);
    const plan = planRun({ stages: configured, prior, resume: true });
    expect(plan.kind).toBe("nothing");
    expect(plan.kind === "nothing" && plan.message).toContain("completed every stage");
  });

  test("--resume refuses to skip a completed stage whose fingerprint changed", () => {
    const prior = record([
      stage("prep", "complete", "old-fingerprint"),
      stage("train", "failed"),
      stage("report", "skipped"),
    ]);
    const msg = planError(() => planRun({ stages: configured, prior, resume: true }));
    expect(msg).toContain("Cannot skip stage 'prep'");
    expect(msg).toContain("--from-stage prep");
  });

  test("--resume without an earlier run, or with other stages, is refused", () => {
    expect(planError(() => planRun({ stages: configured, prior: null, resume: true }))).toBe(
      "Cannot resume: there is no earlier pipeline run in this project",
    );
    const renamed = record([stage("prep", "complete"), stage("fit", "failed"), stage("report", "pending")]);
    expect(planError(() => planRun({ stages: configured, prior: renamed, resume: true }))).toContain(
      "the stages changed since run",
    );
    const shorter = record([stage("prep", "complete"), stage("train", "failed")]);
    expect(planError(() => planRun({ stages: configured, prior: shorter, resume: true }))).toContain(
      "(then: prep, train; now: prep, train, report)",
    );
  });

  test("--from-stage needs every earlier stage complete and unchanged", () => {
    const prior = record([stage("prep", "complete"), stage("train", "failed"), stage("report", "skipped")]);
    const ok = planRun({ stages: configured, prior, resume: false, fromStage: "train" });
    expect(ok.kind === "run" && ok.start).toBe(1);
    const msg = planError(() => planRun({ stages: configured, prior, resume: false, fromStage: "report" }));
    expect(msg).toBe(
      `Cannot skip stage 'train': it is failed in run ${prior.pipeline_id}, not complete (use --from-stage train)`,
    );
  });

  test("--from-stage may rerun a completed stage, and the first stage needs no earlier run", () => {
    const prior = record([
      stage("prep", "complete"),
      stage("train", "complete"),
      stage("report", "complete"),
    ]);
    const plan = planRun({ stages: configured, prior, resume: false, fromStage: "train" });
    expect(plan.kind === "run" && plan.start).toBe(1);
    const first = planRun({ stages: configured, prior: null, resume: false, fromStage: "prep" });
    expect(first).toEqual({ kind: "run", start: 0, reused: [], parentRunId: null });
  });

  test("an unknown --from-stage names the stages", () => {
    expect(
      planError(() => planRun({ stages: configured, prior: null, resume: false, fromStage: "nope" })),
    ).toBe("Unknown stage 'nope': the stages are prep, train, report");
  });
});
