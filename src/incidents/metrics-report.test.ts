/**
 * issue 11 in incidents: a metric detection's series become report.md's metrics section (sparkline
 * and table) and incident.json's `metrics` (non-finite values spelled out); where the next run
 * resumes becomes a checkpoint section.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Detection } from "../core/types.ts";
import { MemoryLogger } from "../util/logger.ts";
import { FsIncidentStore } from "./store.ts";
import { newIncident, T0 } from "./test-fixtures.ts";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-incidents-metrics-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lossNan(): Detection {
  const points = Array.from({ length: 30 }, (_, i) => ({
    at: T0 - (30 - i) * 1000,
    step: 100 + i,
    value: i === 29 ? Number.NaN : 2 - i * 0.05,
  }));
  return {
    detector: "loss",
    detectorKind: "metric",
    kind: "error",
    message: "metric loss is NaN at step 129",
    context: [],
    meta: { metric: "loss", condition: "nan", value: "NaN", step: 129 },
    series: [{ name: "loss", points }],
    at: T0,
    generation: 1,
  };
}

test("metrics section, incident.json series and the checkpoint section", async () => {
  const store = new FsIncidentStore({
    dir: path.join(tmp, "incidents"),
    logger: new MemoryLogger(),
    now: () => T0,
  });
  const d = lossNan();
  const { dir } = await store.create(
    newIncident({
      detection: d,
      related: [d],
      resume: { checkpoint: "/p/ckpt/step-120.pt", step: 120, last_step: 129, steps_lost: 9 },
    }),
  );
  const report = fs.readFileSync(path.join(dir, "report.md"), "utf8");
  const section = report.slice(report.indexOf("## Metrics"), report.indexOf("## Checkpoint"));
  expect(section).toContain("**loss** (last 30 point(s), 0.6 … 2):");
  expect(section).toContain("```\n██▇▇▇▇▇▆▆▆▆▅▅▅▄▄▄▄▄▃▃▃▃▂▂▂▂▁▁×\n```");
  expect(section).toContain("| step | value | time (UTC) |");
  expect(section).toContain("| 129 | NaN | 05:06:06 |");
  expect(section).toContain("| 115 | 1.25 | 05:05:52 |");
  expect(section).not.toContain("| 114 |"); // 15 rows
  expect(report).toContain(
    "## Checkpoint\n\nThe next run resumes from `/p/ckpt/step-120.pt` (step 120). The failed run had reached step 129: 9 step(s) will be done again.",
  );
  const rec = JSON.parse(fs.readFileSync(path.join(dir, "incident.json"), "utf8"));
  expect(rec.metrics[0].points.at(-1)).toEqual({ t: T0 - 1000, step: 129, v: "NaN" });
  expect(rec.resume.steps_lost).toBe(9);
});

test("an incident without series or resume has neither section", async () => {
  const store = new FsIncidentStore({
    dir: path.join(tmp, "incidents"),
    logger: new MemoryLogger(),
    now: () => T0,
  });
  const { dir } = await store.create(newIncident());
  const report = fs.readFileSync(path.join(dir, "report.md"), "utf8");
  expect(report).not.toContain("## Metrics");
  expect(report).not.toContain("## Checkpoint");
});
