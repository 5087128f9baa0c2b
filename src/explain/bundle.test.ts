import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FsIncidentStore } from "../incidents/store.ts";
import { newIncident } from "../incidents/test-fixtures.ts";
import {
  type PipelineRecord,
  pipelineLayout,
  type StageRecord,
  writePipelineRecord,
} from "../pipeline/record.ts";
import { createRedactor } from "../redact/redactor.ts";
import { MemoryLogger } from "../util/logger.ts";
import { buildBundle, ExplainError, type ExplainPaths, INSTRUCTIONS } from "./bundle.ts";
import { renderBundleMarkdown } from "./render.ts";
import { OMITTED_MARKER } from "./sources.ts";

const RUN_A = "a".repeat(32);
const RUN_B = "b".repeat(32);
const TOKEN = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
const PASSWORD = "s3cretPassw0rd";
const PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";

let root: string;
let paths: ExplainPaths;
const redactor = createRedactor();

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-explain-"));
  const dir = path.join(root, ".autosentry");
  const logs = path.join(dir, "logs");
  fs.mkdirSync(logs, { recursive: true });
  paths = {
    root,
    autosentryDir: dir,
    state: path.join(dir, "state.json"),
    journal: path.join(logs, "events.jsonl"),
    processLog: path.join(logs, "process.log"),
    monitorLog: path.join(logs, "autosentry.log"),
    incidentsDir: path.join(dir, "incidents"),
    attempts: path.join(dir, "attempts.tsv"),
  };
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const ev = (run: string, event: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    schema_version: 1,
    time: "2026-03-04T05:06:07.000Z",
    run_id: run,
    stage: null,
    event,
    ...extra,
  });

/** Run A (older, ended) and run B (current) with incidents, logs and attempts. */
async function twoRuns(incidentsOfB = 3) {
  const store = new FsIncidentStore({ dir: paths.incidentsDir, logger: new MemoryLogger() });
  const a = await store.create(newIncident());
  const b: string[] = [];
  for (let i = 0; i < incidentsOfB; i++) b.push((await store.create(newIncident())).id);
  const lines = [
    ev(RUN_A, "monitor_started", { command: ["python", "old.py"] }),
    ev(RUN_A, "incident", { incident_id: a.id, detector: "traceback", message: "old failure" }),
    ev(RUN_A, "monitor_stopped", {
      exit_code: 3,
      reason: "Child exited with code 3 (one_shot)",
      phase: "stopped",
    }),
    ev(RUN_B, "monitor_started", { command: ["python", "train.py", "--token", TOKEN] }),
    ...b.map((id) =>
      ev(RUN_B, "incident", { incident_id: id, detector: "traceback", message: `boom api_key=${TOKEN}` }),
    ),
    ev(RUN_B, "monitor_stopped", { exit_code: 1, reason: "Max restarts reached (2/2)", phase: "gave_up" }),
  ];
  fs.writeFileSync(paths.journal, `${lines.join("\n")}\n{"torn`);
  fs.writeFileSync(
    paths.state,
    JSON.stringify({
      run_id: RUN_B,
      phase: "gave_up",
      stop_reason: "Max restarts reached (2/2)",
      exit_code: 1,
      env_overlay: { HF_TOKEN: "hf_abcdefghijklmnopqrstuvwxyz012345" },
    }),
  );
  const log = [`-----BEGIN PRIVATE KEY-----`, PEM_BODY, PEM_BODY, "-----END PRIVATE KEY-----"];
  for (let i = 1; i <= 3000; i++) log.push(`step ${i} loss 0.${i}`);
  log.push(`connecting to postgres://trainer:${PASSWORD}@db:5432/runs`);
  fs.writeFileSync(paths.processLog, `${log.join("\n")}\n`);
  fs.writeFileSync(paths.monitorLog, "[INFO] autosentry starting\n");
  fs.writeFileSync(
    paths.attempts,
    [
      "timestamp\tincident_id\tdetector\tsource\tbranch\tstatus\tduration_seconds\tdescription",
      `2026-03-04T05:06:07Z\t${a.id}\ttraceback\trule\t\tkept\t1\told`,
      `2026-03-04T05:06:08Z\t${b[0]}\ttraceback\thalve\t\tregressed\t2\tnew`,
      "",
    ].join("\n"),
  );
  return { a: a.id, b };
}

describe("buildBundle: monitor runs", () => {
  test("the current run: state, its events only, process.log tail, newest reports, its attempts, autosentry.log", async () => {
    const { a, b } = await twoRuns();
    const bundle = buildBundle(paths, redactor, { logTailLines: 50, maxReports: 2 });
    expect(bundle.schema_version).toBe(1);
    expect(bundle.instructions).toBe(INSTRUCTIONS);
    expect(bundle.observed_stop_reason).toBe("Max restarts reached (2/2)");
    expect(bundle.run).toMatchObject({
      id: RUN_B,
      kind: "monitor",
      status: "gave_up",
      exit_code: 1,
      stages: null,
    });
    expect(bundle.run.incidents.map((i) => i.id)).toEqual(b);
    expect(Object.keys(bundle.sources)).toEqual([
      ".autosentry/state.json",
      `.autosentry/logs/events.jsonl (the ${b.length + 2} events of this run)`,
      ".autosentry/logs/process.log (last 50 lines at most)",
      `.autosentry/incidents/${b[2]}/report.md`,
      `.autosentry/incidents/${b[1]}/report.md`,
      ".autosentry/attempts.tsv (the 1 rows of this run)",
      ".autosentry/logs/autosentry.log (last 200 lines at most)",
    ]);
    expect(bundle.omissions).toEqual([`1 older incident report(s) left out: ${b[0]}`]);
    const events = bundle.sources[`.autosentry/logs/events.jsonl (the ${b.length + 2} events of this run)`]!;
    expect(events).not.toContain(RUN_A);
    expect(events.trim().split("\n")).toHaveLength(b.length + 2);
    const log = bundle.sources[".autosentry/logs/process.log (last 50 lines at most)"]!.split("\n");
    expect(log[0]).toBe(OMITTED_MARKER);
    expect(log[1]).toBe("step 2952 loss 0.2952");
    expect(bundle.sources[".autosentry/attempts.tsv (the 1 rows of this run)"]).not.toContain(`\t${a}\t`);
    const all = JSON.stringify(bundle) + renderBundleMarkdown(bundle);
    for (const secret of [TOKEN, PASSWORD, "hf_abcdefghijklmnopqrstuvwxyz012345"])
      expect(all).not.toContain(secret);
  });

  test("an older run by id: no state, no process.log, the stop reason from its journal", async () => {
    const { a } = await twoRuns();
    const bundle = buildBundle(paths, redactor, { runId: RUN_A, logTailLines: 50 });
    expect(bundle.run).toMatchObject({
      id: RUN_A,
      status: "stopped",
      exit_code: 3,
      command: ["python", "old.py"],
    });
    expect(bundle.observed_stop_reason).toBe("Child exited with code 3 (one_shot)");
    expect(Object.keys(bundle.sources)).toEqual([
      ".autosentry/logs/events.jsonl (the 3 events of this run)",
      `.autosentry/incidents/${a}/report.md`,
      ".autosentry/attempts.tsv (the 1 rows of this run)",
    ]);
    expect(bundle.omissions).toEqual([
      ".autosentry/state.json: describes a newer run, left out",
      ".autosentry/logs/process.log: holds the newest run's output, left out",
    ]);
  });

  test("caps: each source is cut to its tail, and sources past the total are listed as left out", async () => {
    await twoRuns(4);
    const bundle = buildBundle(paths, redactor, {
      logTailLines: 5000,
      caps: { perSource: 2048, total: 7000 },
    });
    for (const text of Object.values(bundle.sources))
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048 + 30);
    const total = Object.values(bundle.sources).reduce((n, t) => n + Buffer.byteLength(t), 0);
    expect(total).toBeLessThanOrEqual(7000);
    expect(
      bundle.omissions.some((o) => o.endsWith("left out, the bundle reached its total limit of 7000 bytes")),
    ).toBe(true);
    // The whole process.log was too long: its last line is there, its first is not.
    const log = Object.entries(bundle.sources).find(([k]) =>
      k.startsWith(".autosentry/logs/process.log"),
    )![1];
    expect(log.startsWith(`${OMITTED_MARKER}\n`)).toBe(true);
    expect(log).toContain("connecting to postgres://trainer:[REDACTED]@db:5432/runs");
  });

  test("a private key whose BEGIN line is before the tail window is still hidden", async () => {
    await twoRuns();
    const lines = ["-----BEGIN PRIVATE KEY-----"];
    for (let i = 0; i < 400; i++) lines.push(PEM_BODY);
    lines.push("-----END PRIVATE KEY-----", "done");
    fs.writeFileSync(paths.processLog, `${lines.join("\n")}\n`);
    const bundle = buildBundle(paths, redactor, {
      logTailLines: 100000,
      caps: { perSource: 4096, total: 1 << 20 },
    });
    const log = Object.entries(bundle.sources).find(([k]) =>
      k.startsWith(".autosentry/logs/process.log"),
    )![1];
    expect(log).not.toContain(PEM_BODY);
    expect(log.trimEnd().endsWith("[REDACTED]\n-----END PRIVATE KEY-----\ndone")).toBe(true);
  });

  test("a unique prefix of a run id, and last, name a run; an ambiguous or unknown prefix says so", async () => {
    await twoRuns();
    const idOf = (runId: string) => buildBundle(paths, redactor, { runId, logTailLines: 1 }).run.id;
    expect(idOf(RUN_A.slice(0, 8))).toBe(RUN_A);
    expect(idOf("last")).toBe(RUN_B);
    const err = (runId: string) => {
      try {
        buildBundle(paths, redactor, { runId, logTailLines: 1 });
      } catch (e) {
        return e instanceof ExplainError ? `${e.reason}: ${e.message}` : String(e);
      }
      return "no error";
    };
    const [runC, runD] = [`ab${"c".repeat(30)}`, `ab${"d".repeat(30)}`];
    fs.appendFileSync(paths.journal, `\n${ev(runC, "monitor_started")}\n${ev(runD, "monitor_started")}\n`);
    expect(err("ab")).toBe(`usage: Run id 'ab' names 2 runs (${runC}, ${runD}); give more of it`);
    expect(idOf("abd")).toBe(runD);
    expect(err("ffff0000")).toBe(
      `not_found: No run starts with 'ffff0000' in ${paths.journal} or the pipeline runs`,
    );
  });

  test("errors: a malformed id, an unknown run, no run at all", async () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof ExplainError ? `${e.reason}: ${e.message}` : String(e);
      }
      return "no error";
    };
    expect(err(() => buildBundle(paths, redactor, { logTailLines: 1 }))).toBe(
      "not_found: No run to explain: .autosentry/state.json has no run yet",
    );
    expect(err(() => buildBundle(paths, redactor, { runId: "../../etc", logTailLines: 1 }))).toBe(
      "usage: Not a run id: '../../etc' (expected 32 lowercase hex)",
    );
    await twoRuns();
    expect(err(() => buildBundle(paths, redactor, { runId: "c".repeat(32), logTailLines: 1 }))).toBe(
      `not_found: No run ${"c".repeat(32)} in .autosentry/logs/events.jsonl or .autosentry/state.json`,
    );
  });
});

describe("buildBundle: pipeline runs", () => {
  function stage(name: string, status: StageRecord["status"], dir: string | null): StageRecord {
    return {
      name,
      status,
      started_at: "2026-03-04T05:06:07.000Z",
      ended_at: "2026-03-04T05:07:07.000Z",
      exit_code: status === "complete" ? 0 : 1,
      final_restarts: status === "complete" ? 0 : 2,
      reason: status === "complete" ? "Child completed successfully" : "Max restarts reached (2/2)",
      fingerprint: `fp-${name}`,
      evidence_dir: dir,
      cleanup_errors: [],
      reused_from: null,
    };
  }

  test("the latest pipeline run: record, journal, failed stage first, evidence only under runs/", async () => {
    const layout = pipelineLayout(paths.autosentryDir);
    const prep = layout.stageDir(RUN_A, "prep");
    const train = layout.stageDir(RUN_A, "train");
    fs.mkdirSync(prep, { recursive: true });
    fs.mkdirSync(train, { recursive: true });
    fs.writeFileSync(
      path.join(prep, "launch.json"),
      JSON.stringify({ command: ["prep"], environment_keys: ["A"] }),
    );
    fs.writeFileSync(path.join(prep, "process.log"), "prepared\n");
    fs.writeFileSync(path.join(train, "launch.json"), JSON.stringify({ command: ["train"], api_key: TOKEN }));
    fs.writeFileSync(path.join(train, "process.log"), `loss nan token=${TOKEN}\n`);
    fs.writeFileSync(
      path.join(train, "events.jsonl"),
      `${ev(RUN_A, "incident", { incident_id: "i1", detector: "nan" })}\n`,
    );
    fs.mkdirSync(path.join(train, "incidents", "i1"), { recursive: true });
    fs.writeFileSync(path.join(train, "incidents", "i1", "report.md"), "# Incident i1\n");
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-outside-"));
    fs.writeFileSync(path.join(outside, "process.log"), "not to be read\n");
    const rec: PipelineRecord = {
      schema_version: 2,
      pipeline_id: RUN_A,
      parent_run_id: null,
      started_at: "2026-03-04T05:06:07.000Z",
      ended_at: "2026-03-04T05:08:07.000Z",
      status: "failed",
      current_stage: null,
      exit_code: 1,
      reason: "Stage train failed: Max restarts reached (2/2)",
      controller_pid: null,
      stages: [
        stage("prep", "complete", prep),
        stage("train", "failed", train),
        stage("eval", "skipped", outside),
      ],
    };
    writePipelineRecord(layout, rec);
    fs.writeFileSync(layout.runJournal(RUN_A), `${ev(RUN_A, "pipeline_started")}\n`);
    try {
      const bundle = buildBundle(paths, redactor, { logTailLines: 100 });
      expect(bundle.run).toMatchObject({ id: RUN_A, kind: "pipeline", status: "failed", exit_code: 1 });
      expect(bundle.run.stages!.map((s) => `${s.name}:${s.status}:${s.restarts}`)).toEqual([
        "prep:complete:0",
        "train:failed:2",
        "eval:skipped:2",
      ]);
      expect(bundle.run.incidents).toEqual([{ id: "i1", detector: "nan", message: null }]);
      expect(bundle.observed_stop_reason).toBe("Stage train failed: Max restarts reached (2/2)");
      const r = `.autosentry/runs/${RUN_A}`;
      expect(Object.keys(bundle.sources)).toEqual([
        `${r}/pipeline.json`,
        `${r}/events.jsonl`,
        `${r}/stages/train/launch.json`,
        `${r}/stages/train/events.jsonl`,
        `${r}/stages/train/process.log (last 100 lines at most)`,
        `${r}/stages/train/incidents/i1/report.md`,
        `${r}/stages/prep/launch.json`,
        `${r}/stages/prep/process.log (last 100 lines at most)`,
      ]);
      expect(bundle.omissions).toEqual([
        `stage eval: evidence folder ${outside} is not under ${r.slice(0, -33)}, not read`,
      ]);
      const md = renderBundleMarkdown(bundle);
      expect(md).toStartWith(`# Pipeline run ${RUN_A}\n`);
      expect(md).toContain(
        "## Stages\n\n- prep: complete, exit=0, restarts=0. Child completed successfully\n",
      );
      expect(md).toContain(
        `## Evidence: ${r}/stages/train/process.log (last 100 lines at most)\n\n\`\`\`text\nloss nan token=[REDACTED]\n\`\`\``,
      );
      expect(JSON.stringify(bundle) + md).not.toContain(TOKEN);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe("renderBundleMarkdown", () => {
  test("fences are longer than any backtick run in a source", async () => {
    await twoRuns(1);
    fs.writeFileSync(paths.processLog, "```` four\n");
    const md = renderBundleMarkdown(buildBundle(paths, redactor, { logTailLines: 10 }));
    expect(md).toContain(
      "## Evidence: .autosentry/logs/process.log (last 10 lines at most)\n\n`````text\n```` four\n`````\n",
    );
    expect(md).toContain("**Observed stop:** `Max restarts reached (2/2)`");
    expect(md).toContain("## Evidence limits\n");
  });
});
