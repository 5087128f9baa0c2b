/**
 * End-to-end (issue 13): a standalone crash line inside a burst of output reaches the monitor. The
 * signature pack is checked on every line (its literals are part of the detector set's one
 * pre-test); before, it read the last 100 lines once a second, so a `Segmentation fault` followed
 * within the second by thousands of lines was never seen.
 */
import { describe, expect, test } from "bun:test";
import { incidentIds, makeProject, readFile, run } from "./helpers.ts";

describe("signatures in a burst of output", () => {
  test("a segfault line followed at once by 5,000 lines: an incident named segfault, with the lines before it", async () => {
    const dir = makeProject(
      {
        "job.sh": `#!/bin/bash
seq 1 300 | sed 's/^/step /'
echo "Segmentation fault (core dumped)"
seq 301 5300 | sed 's/^/step /'
sleep 60
`,
      },
      `process:
  command: [bash, job.sh]
rules:
  - name: crash
    match: { signature: segfault }
    action: { kind: abort }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.stderr).not.toContain("unknown key");
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    const report = readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`);
    expect(report).toContain("`segfault`");
    expect(report).toContain("rule `crash` → abort");
    expect(report).toContain("line_no=301");
    // the detector's context is the lines up to the crash line, not those that followed it
    const excerpt = readFile(dir, `.autosentry/incidents/${ids[0]}/log_excerpt.txt`);
    expect(excerpt).toContain("step 300\nSegmentation fault (core dumped)");
  }, 120_000);
});
