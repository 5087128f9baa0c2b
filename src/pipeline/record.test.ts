import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  listRuns,
  type PipelineRecord,
  pipelineLayout,
  readLatestRun,
  readPipelineRecord,
  readRun,
  stageEvidence,
  writePipelineRecord,
} from "./record.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "as-pipeline-"));
  dirs.push(d);
  return d;
}

const rec = (id: string, started: string, evidence: string | null = null): PipelineRecord => ({
  schema_version: 2,
  pipeline_id: id,
  parent_run_id: null,
  started_at: started,
  ended_at: null,
  status: "running",
  current_stage: "a",
  exit_code: null,
  reason: null,
  controller_pid: 1,
  stages: [
    {
      name: "a",
      status: "running",
      started_at: started,
      ended_at: null,
      exit_code: null,
      final_restarts: 0,
      reason: null,
      fingerprint: "f",
      evidence_dir: evidence,
      cleanup_errors: [],
      reused_from: null,
    },
  ],
});

describe("pipeline record", () => {
  test("is written to its run folder and as the latest pointer, and read back", () => {
    const dir = tmp();
    const lay = pipelineLayout(dir);
    const a = rec("a".repeat(32), "2026-01-02T00:00:00.000Z");
    const b = rec("b".repeat(32), "2026-01-01T00:00:00.000Z");
    writePipelineRecord(lay, a);
    writePipelineRecord(lay, b);
    expect(readLatestRun(dir)).toEqual(b);
    expect(readRun(dir, a.pipeline_id)).toEqual(a);
    expect(readRun(dir, "c".repeat(32))).toBeNull();
    // Oldest first, by start time (not by name).
    expect(listRuns(dir)).toEqual([b.pipeline_id, a.pipeline_id]);
  });

  test("a run id must be 32 lowercase hex: no path tricks", () => {
    const dir = tmp();
    expect(() => readRun(dir, "../../etc")).toThrow("Not a pipeline run id: '../../etc'");
    expect(() => readRun(dir, "A".repeat(32))).toThrow("Not a pipeline run id");
  });

  test("missing is null; broken, foreign or newer files are errors naming the file", () => {
    const dir = tmp();
    const f = path.join(dir, "pipeline.json");
    expect(readPipelineRecord(f)).toBeNull();
    fs.writeFileSync(f, "{not json");
    expect(() => readPipelineRecord(f)).toThrow(`Cannot read ${f}: not valid JSON`);
    fs.writeFileSync(f, JSON.stringify({ hello: 1 }));
    expect(() => readPipelineRecord(f)).toThrow(`Cannot read ${f}: not a pipeline record`);
    fs.writeFileSync(f, JSON.stringify({ ...rec("a".repeat(32), "t"), schema_version: 3 }));
    expect(() => readPipelineRecord(f)).toThrow("schema_version 3 (expected 2)");
  });

  test("fields missing from an older record take their defaults", () => {
    const dir = tmp();
    const f = path.join(dir, "pipeline.json");
    fs.writeFileSync(
      f,
      JSON.stringify({
        schema_version: 2,
        pipeline_id: "a".repeat(32),
        started_at: "t",
        status: "complete",
        stages: [{ name: "x", status: "complete" }],
      }),
    );
    const r = readPipelineRecord(f)!;
    expect(r.parent_run_id).toBeNull();
    expect(r.stages[0]).toMatchObject({
      name: "x",
      cleanup_errors: [],
      reused_from: null,
      evidence_dir: null,
    });
  });

  test("a stage's evidence lists its files and incident report copies", () => {
    const dir = tmp();
    const ev = path.join(dir, "runs", "r", "stages", "a");
    fs.mkdirSync(path.join(ev, "incidents", "2026-01-01T00-00-01Z-error-x"), { recursive: true });
    fs.mkdirSync(path.join(ev, "incidents", "2026-01-01T00-00-00Z-error-y"), { recursive: true });
    fs.writeFileSync(path.join(ev, "incidents", "2026-01-01T00-00-01Z-error-x", "report.md"), "#");
    fs.writeFileSync(path.join(ev, "incidents", "2026-01-01T00-00-00Z-error-y", "report.md"), "#");
    const r = rec("a".repeat(32), "t", ev);
    const e = stageEvidence(r.stages[0]!)!;
    expect(e.processLog).toBe(path.join(ev, "process.log"));
    expect(e.launch).toBe(path.join(ev, "launch.json"));
    expect(e.incidentReports).toEqual([
      path.join(ev, "incidents", "2026-01-01T00-00-00Z-error-y", "report.md"),
      path.join(ev, "incidents", "2026-01-01T00-00-01Z-error-x", "report.md"),
    ]);
    expect(stageEvidence(rec("a".repeat(32), "t", null).stages[0]!)).toBeNull();
  });
});
