import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { appendAttempt, ledgerPath, updateAttempt } from "../../fixes/ledger.ts";

const MAIN = path.resolve(import.meta.dir, "../../../main.ts");
let tmp: string;

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-cli-analyze-")));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], cwd = tmp) {
  const p = Bun.spawnSync([process.execPath, MAIN, "analyze", ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function seed(root: string): void {
  const file = ledgerPath(root);
  const now = Date.now();
  appendAttempt(file, {
    incident_id: "old",
    detector: "oom",
    source: "halve",
    description: "m",
    at: now - 3 * 86_400_000,
  });
  updateAttempt(file, "old", "halve", { status: "kept", duration_seconds: 600 });
  appendAttempt(file, {
    incident_id: "a",
    detector: "oom",
    source: "halve",
    description: "m",
    at: now - 3_600_000,
  });
  updateAttempt(file, "a", "halve", { status: "regressed" });
  appendAttempt(file, {
    incident_id: "b",
    detector: "oom",
    source: "halve",
    description: "m",
    at: now - 60_000,
  });
  updateAttempt(file, "b", "halve", { status: "regressed" });
  appendAttempt(file, {
    incident_id: "c",
    detector: "traceback",
    source: "claude",
    description: "m",
    at: now,
  });
}

describe("autosentry analyze", () => {
  test("--json prints the summary of the ledger under the config's project root", () => {
    fs.mkdirSync(path.join(tmp, ".autosentry"));
    fs.writeFileSync(path.join(tmp, ".autosentry", "autosentry.yaml"), "process:\n  command: [echo, hi]\n");
    seed(tmp);
    const sub = path.join(tmp, "src");
    fs.mkdirSync(sub);
    const r = run(["--json"], sub);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.total).toBe(4);
    expect(j.by_status).toEqual({ kept: 1, regressed: 2, pending: 1 });
    expect(j.top_detectors).toEqual([
      ["oom", 3],
      ["traceback", 1],
    ]);
    expect(j.rules[0]).toEqual({
      source: "halve",
      total: 3,
      kept: 1,
      regressed: 2,
      crashed: 0,
      discarded: 0,
      pending: 0,
      success_rate: 1 / 3,
    });
    expect(j.detector_streaks[0]).toEqual({
      detector: "oom",
      total: 3,
      streak_status: "regressed",
      streak_len: 2,
    });
  });

  test("--since filters; the human report has the tables and the streak warning", () => {
    seed(tmp);
    const r = run(["--since", "24h"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("attempts — 3 total (last 24h)\npending=1  regressed=2\n");
    expect(r.stdout).toContain("top failing detectors\n");
    expect(r.stdout).toContain("per-rule success\n");
    expect(r.stdout).toContain("regression streaks (heads up)\n");
    expect(r.stdout).toContain("2× regressed");
  });

  test("-c names the config whose project the ledger belongs to", () => {
    const proj = path.join(tmp, "proj");
    fs.mkdirSync(path.join(proj, ".autosentry"), { recursive: true });
    fs.writeFileSync(path.join(proj, ".autosentry", "autosentry.yaml"), "process:\n  command: [echo, hi]\n");
    seed(proj);
    const r = run(["-c", "proj/.autosentry/autosentry.yaml", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).total).toBe(4);
  });

  test("an empty or missing ledger: 'no attempts yet', or a zero summary with --json", () => {
    const r = run([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`no attempts yet (${ledgerPath(tmp)})\n`);
    const j = run(["--json"]);
    expect(JSON.parse(j.stdout)).toEqual({
      total: 0,
      by_status: {},
      top_detectors: [],
      rules: [],
      detector_streaks: [],
    });
  });

  test("a bad --since is a usage error (exit 2), even without a ledger", () => {
    const r = run(["--since", "yesterday"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("bad --since value 'yesterday'");
  });
});
