/**
 * End-to-end: a training loop that catches a failing step, prints its traceback with
 * traceback.print_exc() and keeps logging. The compiled binary's incident has the trace and its
 * three-line message, not the step lines printed after it (whichever order the capture read the
 * two pipes in); a rule matching the built-in signature acts on it, and the incident's copy of
 * state.json keeps the identical-failure signature readable (a `signature` key is not a secret).
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { incidentIds, makeProject, REPO, readFile, run } from "./helpers.ts";

test("print_exc() then more steps: trace.txt ends at the message; the signature stays readable", async () => {
  const source = fs.readFileSync(
    path.join(REPO, "tests/fixtures/traces/sources/python/caught_loop.py"),
    "utf8",
  );
  const dir = makeProject(
    // after the loop, the job exits non-zero so the run ends on its own
    { "train.py": `${source}\nraise SystemExit(3)\n` },
    `process:
  command: [python3, -u, train.py]
detectors:
  - kind: traceback
rules:
  - name: device-assert
    match: { signature: cuda_device_assert }
    action: { kind: abort }
`,
  );
  const r = await run(["run"], { cwd: dir });
  expect(r.stderr).not.toContain("unknown key");
  const ids = incidentIds(dir);
  expect(ids).toHaveLength(1);
  const folder = `.autosentry/incidents/${ids[0]}`;
  const trace = readFile(dir, `${folder}/trace.txt`).trimEnd().split("\n");
  expect(trace[0]).toBe("Traceback (most recent call last):");
  expect(trace.slice(-3)).toEqual([
    "RuntimeError: CUDA error: device-side assert triggered",
    "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.",
    "For debugging consider passing CUDA_LAUNCH_BLOCKING=1.",
  ]);
  expect(trace.some((l) => l.startsWith("step "))).toBe(false);
  expect(readFile(dir, `${folder}/report.md`)).toContain("rule `device-assert` → abort");
  const state = JSON.parse(readFile(dir, `${folder}/state.json`));
  expect(state.identical.signature).toContain("RuntimeError: CUDA error: device-side assert triggered");
}, 120_000);
