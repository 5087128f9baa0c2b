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
    // "before the failure" means before: the excerpt and report.md's quote end at the crash line,
    // and the lines that followed come after log_excerpt.txt's marker
    const [before, rest] = excerpt.split("\n--- detector context ---\n");
    expect(before).toEndWith("step 300\nSegmentation fault (core dumped)");
    expect(before).not.toContain("step 301");
    expect(rest).toContain("\n--- after the failure ---\n");
    expect(rest?.split("\n--- after the failure ---\n")[1]).toContain("step 5300");
    const quoted = report.split(/Last \d+ line\(s\) before the failure:\n\n```\n/)[1]?.split("\n```")[0];
    expect(quoted).toEndWith("step 300\nSegmentation fault (core dumped)");
    expect(quoted).not.toContain("step 301");
  }, 120_000);

  test("a traceback on stderr closed on a later tick while stdout goes on: the excerpt ends at the trace", async () => {
    // The trace is open until its stream goes quiet (a tick closes it); stdout's lines arrive in
    // the meantime. The pauses only keep the two pipes' lines in this order.
    const dir = makeProject(
      {
        "job.sh": `#!/bin/bash
seq 1 50 | sed 's/^/step /'
sleep 0.3
echo 'Traceback (most recent call last):' >&2
echo '  File "train.py", line 3, in <module>' >&2
echo 'RuntimeError: the failure line' >&2
sleep 0.3
seq 51 120 | sed 's/^/step /'
sleep 60
`,
      },
      `process:
  command: [bash, job.sh]
monitor:
  settle_seconds: 1
detectors:
  - kind: traceback
rules:
  - name: stop
    match: { detector: traceback }
    action: { kind: abort }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(1);
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    const excerpt = readFile(dir, `.autosentry/incidents/${ids[0]}/log_excerpt.txt`);
    const [before, rest] = excerpt.split("\n--- detector context ---\n");
    expect(before).toEndWith(
      'step 50\nTraceback (most recent call last):\n  File "train.py", line 3, in <module>\nRuntimeError: the failure line',
    );
    expect(rest?.split("\n--- after the failure ---\n")[1]).toStartWith("step 51\n");
    const report = readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`);
    const quoted = report.split(/Last \d+ line\(s\) before the failure:\n\n```\n/)[1]?.split("\n```")[0];
    expect(quoted).toEndWith("RuntimeError: the failure line");
    expect(quoted).not.toContain("step 51");
  }, 120_000);
});
