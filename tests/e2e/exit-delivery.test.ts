/**
 * End-to-end: the capture process's exit file is kept until the monitor has recorded the exit
 * (issue 16). A monitor SIGKILLed after the child's exit reached it, but before (or right after) the
 * incident was written, must lose nothing: the next `run` handles that exit as the failure it was,
 * exactly once. The monitor is held in that window with the test-only `AUTOSENTRY_TEST_HOLD`
 * (src/monitor/test-hold.ts).
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  incidentIds,
  journal,
  makeProject,
  readFile,
  readState,
  reapProject,
  run,
  start,
  testEnv,
  waitFor,
} from "./helpers.ts";

// The first generation prints a traceback and exits 1 at once; later generations tick.
const JOB = `if [ ! -e crashed-once ]; then
  : > crashed-once
  echo 'Traceback (most recent call last):'
  echo '  File "train.py", line 3, in <module>'
  echo 'RuntimeError: lost between exit and incident'
  exit 1
fi
while :; do echo tick; sleep 0.1; done
`;
const CONFIG =
  "process:\n  command: [sh, job.sh]\n  restart_policy: { cooldown_seconds: 0 }\ndetectors:\n  - kind: traceback\n";

async function killedAt(point: "before-incident" | "after-incident"): Promise<string> {
  const dir = makeProject({ "job.sh": JOB }, CONFIG);
  const hold = path.join(dir, "held");
  const first = start(["run"], { cwd: dir, env: testEnv({ AUTOSENTRY_TEST_HOLD: `${point}:${hold}` }) });
  await waitFor(`the monitor held ${point}`, () => fs.existsSync(hold), 60_000);
  expect(readFile(dir, "held").trim()).toBe("1");
  // The capture process's record of the exit is still there: the monitor has not recorded it yet.
  const exitFile = path.join(dir, ".autosentry", "run", "exit-1.json");
  expect(fs.existsSync(exitFile)).toBe(true);
  expect(JSON.parse(fs.readFileSync(exitFile, "utf8"))).toMatchObject({ generation: 1, code: 1 });
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  return dir;
}

async function recoversOnce(dir: string): Promise<void> {
  const second = start(["run"], { cwd: dir });
  try {
    await waitFor("the recovered exit", () => journal(dir).some((e) => e.event === "child_exit_recovered"));
    await waitFor("the restart after it", () =>
      journal(dir).some((e) => e.event === "child_started" && e.generation === 2),
    );
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    const incident = JSON.parse(readFile(dir, `.autosentry/incidents/${ids[0]}/incident.json`));
    expect(incident.generation).toBe(1);
    expect(incident.message).toContain("lost between exit and incident");
    // Recorded now: the monitor removes the exit file (after state.json says so).
    await waitFor(
      "the exit file removed",
      () => !fs.existsSync(path.join(dir, ".autosentry/run/exit-1.json")),
    );
    const st = await waitFor("the restart counted", () => {
      const s = readState(dir);
      return s?.restarts_total === 1 ? s : null;
    });
    expect(st.last_exit_code).toBe(1);
    expect((await run(["abort"], { cwd: dir })).code).toBe(0);
    await second.wait();
  } finally {
    second.proc.kill("SIGKILL");
    reapProject(dir);
  }
  // Exactly one incident, also after the run ended.
  expect(incidentIds(dir)).toHaveLength(1);
}

test("a monitor killed after the exit reached it but before the incident was written loses nothing", async () => {
  await recoversOnce(await killedAt("before-incident"));
}, 120_000);

test("a monitor killed right after writing the incident: the next run does not write it twice", async () => {
  await recoversOnce(await killedAt("after-incident"));
}, 120_000);

// Every generation fails the same way; with max_identical_failures 1 the second identical failure
// stops the run. The first generation's exit is recovered by the second monitor.
const ALWAYS = `echo 'Traceback (most recent call last):'
echo '  File "train.py", line 3, in <module>'
echo 'RuntimeError: the same failure every time'
exit 1
`;
const CAPPED = `process:\n  command: [sh, job.sh]\n  restart_policy: { cooldown_seconds: 0, max_identical_failures: 1 }\ndetectors:\n  - kind: traceback\n`;

/**
 * The first monitor is held at `point` and SIGKILLed once state.json holds its identical-failure
 * count. After the incident, state.json's read position is then set past the traceback, as the
 * killed monitor may have recorded it. With `landed: false` state.json is also put back to what it
 * said before the count, as when the kill beats the monitor's coalesced state write (50 ms).
 * Either way the second monitor counts the recovered failure exactly once.
 */
async function recoveredCountsOnce(
  point: "before-incident" | "after-incident",
  landed: boolean,
): Promise<void> {
  const dir = makeProject({ "job.sh": ALWAYS }, CAPPED);
  const hold = path.join(dir, "held");
  const first = start(["run"], { cwd: dir, env: testEnv({ AUTOSENTRY_TEST_HOLD: `${point}:${hold}` }) });
  await waitFor(`the monitor held ${point}`, () => fs.existsSync(hold), 60_000);
  await waitFor("state.json holds the counted failure", () => readState(dir)?.identical?.count === 1, 60_000);
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  const file = path.join(dir, ".autosentry", "state.json");
  const st = JSON.parse(fs.readFileSync(file, "utf8"));
  if (!landed) st.identical = { signature: null, count: 0 };
  if (point === "after-incident") {
    // As when the killed monitor's read position had reached past the traceback (it is written
    // with the state, so sometimes it has): the next one reads only the exit after it, while the
    // failure it counts is the traceback of the incident it reuses.
    const text = fs.readFileSync(path.join(dir, ".autosentry", "logs", "process.log"), "utf8");
    const end = text.indexOf("every time\n") + "every time\n".length;
    st.child.logOffset = Buffer.byteLength(text.slice(0, end));
  }
  fs.writeFileSync(file, JSON.stringify(st, null, 2));
  const second = start(["run"], { cwd: dir });
  try {
    const r = await second.wait();
    // generation 1 (recovered) counts once, generation 2 is the second identical failure: give up.
    expect(r.code).toBe(1);
    const ev = journal(dir);
    expect(ev.some((e) => e.event === "child_exit_recovered" && e.generation === 1)).toBe(true);
    const limit = ev.filter((e) => e.event === "repeat_failure_limit");
    expect(limit).toHaveLength(1);
    expect(limit[0]?.count).toBe(2);
    expect(ev.filter((e) => e.event === "child_started").map((e) => e.generation)).toEqual([1, 2]);
    expect(incidentIds(dir)).toHaveLength(2);
  } finally {
    second.proc.kill("SIGKILL");
    reapProject(dir);
  }
}

for (const point of ["after-incident", "before-incident"] as const) {
  const which =
    point === "after-incident"
      ? "reuses the killed monitor's incident"
      : "writes the incident the killed monitor did not";
  test(`a recovered exit that ${which} counts once toward max_identical_failures (its count in state.json)`, async () => {
    await recoveredCountsOnce(point, true);
  }, 120_000);
  test(`a recovered exit that ${which} counts once toward max_identical_failures (killed before state.json had its count)`, async () => {
    await recoveredCountsOnce(point, false);
  }, 120_000);
}
