/**
 * @module
 * Where a pipeline run starts (`run`, `run --resume`, `run --from-stage NAME`) and which earlier
 * results it takes over. Rules (inventory §4.11): resuming needs the previous run's record with the
 * same stage names in the same order; every stage before the start must be `complete` there with
 * an identical fingerprint; anything else is a {@link PlanError} that says what to do instead.
 * `--resume` starts at the first stage the previous run did not complete.
 */
import type { PipelineRecord, StageRecord } from "./record.ts";

/** A request that cannot be honoured (a usage error: exit 2). */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanError";
  }
}

export interface PlanInput {
  /** The configured stages, in order, with their current fingerprints. */
  stages: Array<{ name: string; fingerprint: string }>;
  /** The previous run's record (the latest pointer), or null. */
  prior: PipelineRecord | null;
  resume: boolean;
  fromStage?: string | undefined;
}

export type Plan =
  | {
      kind: "run";
      /** Index of the first stage to run. */
      start: number;
      /** Records taken over for the stages before `start` (already marked with `reused_from`). */
      reused: StageRecord[];
      parentRunId: string | null;
    }
  /** `--resume` of a run that completed every stage (with unchanged fingerprints). */
  | { kind: "nothing"; message: string };

const list = (names: string[]) => names.join(", ");

/** Decide where the run starts. Throws {@link PlanError}. */
export function planRun(input: PlanInput): Plan {
  const { stages, prior, resume, fromStage } = input;
  const names = stages.map((s) => s.name);
  if (!resume && fromStage === undefined) return { kind: "run", start: 0, reused: [], parentRunId: null };
  let start: number | null = null;
  if (fromStage !== undefined) {
    start = names.indexOf(fromStage);
    if (start < 0) throw new PlanError(`Unknown stage '${fromStage}': the stages are ${list(names)}`);
    if (start === 0) {
      return { kind: "run", start: 0, reused: [], parentRunId: prior?.pipeline_id ?? null };
    }
  }
  const what = fromStage !== undefined ? `start at stage '${fromStage}'` : "resume";
  if (prior === null) {
    throw new PlanError(
      fromStage !== undefined
        ? `Cannot ${what}: there is no earlier pipeline run to take ${list(names.slice(0, start ?? 0))} from`
        : "Cannot resume: there is no earlier pipeline run in this project",
    );
  }
  const priorNames = prior.stages.map((s) => s.name);
  if (priorNames.length !== names.length || priorNames.some((n, i) => n !== names[i])) {
    throw new PlanError(
      `Cannot ${what}: the stages changed since run ${prior.pipeline_id} (then: ${list(priorNames)}; now: ${list(names)}); run without --resume/--from-stage to start over`,
    );
  }
  if (start === null) {
    start = prior.stages.findIndex((s) => s.status !== "complete");
    if (start < 0) start = names.length;
  }
  const reused: StageRecord[] = [];
  for (let i = 0; i < start; i++) {
    const was = prior.stages[i]!;
    const now = stages[i]!;
    if (was.status !== "complete") {
      throw new PlanError(
        `Cannot skip stage '${now.name}': it is ${was.status} in run ${prior.pipeline_id}, not complete (use --from-stage ${now.name})`,
      );
    }
    if (was.fingerprint !== now.fingerprint) {
      throw new PlanError(
        `Cannot skip stage '${now.name}': its command, cwd or environment changed since run ${prior.pipeline_id} completed it; rerun from it with --from-stage ${now.name}, or start over without --resume`,
      );
    }
    reused.push({ ...structuredClone(was), reused_from: was.reused_from ?? prior.pipeline_id });
  }
  if (start >= names.length) {
    return {
      kind: "nothing",
      message: `Nothing to resume: pipeline run ${prior.pipeline_id} completed every stage (${list(names)})`,
    };
  }
  return { kind: "run", start, reused, parentRunId: prior.pipeline_id };
}
