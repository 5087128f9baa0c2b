/**
 * End-to-end: the monitor gives its executable's clean code pages back after 10 quiet seconds
 * (src/util/working-set.ts, src/monitor/garbage.ts; issue 13 idle footprint). The pages it needs
 * later come back on use: a failure after the trim is recorded and restarted like any other, and
 * the monitor goes on to the end of the run (a wrongly released page would crash it).
 */
import { expect, test } from "bun:test";
import { incidentIds, journal, makeProject, readFile, readState, run } from "./helpers.ts";

test("a failure after the quiet-time trim is detected, recorded and restarted", async () => {
  const dir = makeProject(
    {
      // First run: quiet past the trim (10 s), then a traceback and exit 3; second run: success.
      "job.sh": `n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs
if [ "$n" = 1 ]; then
  echo "step 1"; sleep 12
  echo 'Traceback (most recent call last):'
  echo '  File "train.py", line 7, in <module>'
  echo 'RuntimeError: after the quiet time'
  exit 3
fi
echo done
`,
    },
    `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.2 }
`,
  );
  const r = await run(["run"], { cwd: dir });
  expect(r.code).toBe(0);
  expect(readFile(dir, "runs").trim()).toBe("2");
  const st = readState(dir)!;
  expect(st.phase).toBe("completed");
  expect(st.restarts_total).toBe(1);
  const ids = incidentIds(dir);
  expect(ids).toHaveLength(1);
  expect(readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`)).toContain(
    "RuntimeError: after the quiet time",
  );
  expect(journal(dir).filter((e) => e.event === "child_started")).toHaveLength(2);
});
