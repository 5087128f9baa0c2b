/**
 * End-to-end (issue 12): failures without a traceback reach the monitor through the signature pack
 * (a real bash reporting its child's SIGKILL as `Killed`), a rule matches them by signature, and the
 * incident's report.md leads with the known failure and with where to look (the innermost project
 * frame of a real Python traceback); `scan --json` of the compiled binary reports both frames.
 */
import { describe, expect, test } from "bun:test";
import * as path from "node:path";
import { incidentIds, makeProject, REPO, readFile, readState, run } from "./helpers.ts";

describe("detection through the compiled binary", () => {
  test("bash's `Killed` is oom_killer; a rule matching the signature halves the batch; report.md leads with it", async () => {
    const dir = makeProject(
      {
        "job.sh": `#!/bin/bash
echo "\${BATCH_SIZE}" >> seen.txt
echo "step 1 batch=\${BATCH_SIZE}"
if [ "\${BATCH_SIZE}" -gt 32 ]; then
  bash -c 'kill -9 $$'
  exit 137
fi
echo "done"
`,
      },
      `process:
  command: [bash, job.sh]
  env: { BATCH_SIZE: 64 }
  restart_policy: { cooldown_seconds: 0.2 }
rules:
  - name: ram
    match: { signature: oom_killer }
    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFile(dir, "seen.txt").trim().split("\n")).toEqual(["64", "32"]);
    expect(readState(dir)!.phase).toBe("completed");
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    const report = readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`);
    expect(report).toContain("**Known failure:** `oom_killer` (oom)");
    expect(report).toContain("rule `ram` → restart_with_env");
  }, 120_000);

  test("report.md of a Python traceback leads with the innermost project frame", async () => {
    const dir = makeProject(
      {
        "train.py": `import json

def load(path):
    with open(path) as f:
        return json.load(f)

load("cfg.json")
`,
        "cfg.json": "{ not json",
      },
      `process:
  command: [python3, train.py]
detectors:
  - kind: traceback
rules:
  - name: stop
    match: { exception_type: JSONDecodeError }
    action: { kind: abort }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.stderr).not.toContain("unknown key");
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    const report = readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`);
    const summary = report.slice(report.indexOf("## Summary"));
    // the stdlib's json frames are innermost; the project's own frame is where to look
    expect(summary).toMatch(/\*\*Where to look:\*\* `[^`]*train\.py:5 in load`/);
  }, 120_000);

  test("scan --json: signature, explanation, innermost and project frames", async () => {
    const log = path.join(REPO, "tests/corpus/python/logfmt-09.txt");
    const r = await run(["scan", "--json", log], { cwd: REPO });
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const tb = rows.find((x) => x.detector === "traceback");
    expect(tb.exception_type).toBe("requests.exceptions.ConnectionError");
    expect(tb.innermost_frame).toEqual([
      "/venv/lib/python3.11/site-packages/requests/adapters.py",
      519,
      "send",
    ]);
    expect(tb.project_frame).toEqual(["/srv/sync/upload.py", 44, "push"]);
    const killed = await run(
      ["scan", "--json", path.join(REPO, "tests/corpus/no-traceback/killed-glued-bar-03.txt")],
      {
        cwd: REPO,
      },
    );
    const row = JSON.parse(killed.stdout.trim().split("\n")[0]!);
    expect([row.detector, row.signature, row.signature_kind, row.exception_type]).toEqual([
      "signatures",
      "oom_killer",
      "oom",
      "SIGKILL",
    ]);
    expect(row.explanation).toContain("OOM killer");
  }, 60_000);
});
