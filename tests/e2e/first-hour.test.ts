/**
 * End-to-end: rough edges a new user hit in the first hour (issue 14), each pinned by the binary.
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeProject, run } from "./helpers.ts";

test("pause, resume, abort and approve without a config refuse (exit 2) and write no state", async () => {
  const dir = makeProject();
  for (const verb of ["pause", "resume", "abort", "approve"]) {
    const r = await run([verb], { cwd: dir });
    expect({ verb, code: r.code, stdout: r.stdout }).toEqual({ verb, code: 2, stdout: "" });
    expect(r.stderr).toContain(`autosentry ${verb}: no config in ${fs.realpathSync(dir)}`);
    expect(r.stderr).toContain("`autosentry init` creates the config");
  }
  expect(fs.existsSync(path.join(dir, ".autosentry", "state.json"))).toBe(false);
});

test("a paused project says so loudly in run --check", async () => {
  const dir = makeProject({}, "process:\n  command: [sleep, '1']\n");
  const pause = await run(["pause"], { cwd: dir });
  expect(pause.code).toBe(0);
  const check = await run(["run", "--check"], { cwd: dir });
  expect(check.code).toBe(0);
  expect(check.stdout).toContain("All launch requirements passed");
  expect(check.stdout).toMatch(
    /PAUSED: this project was paused \(since \S+ by \S+\); the job will not start until `autosentry resume`/,
  );
  await run(["resume"], { cwd: dir });
  const again = await run(["run", "--check"], { cwd: dir });
  expect(again.stdout).not.toContain("PAUSED");
});

test("healer respond with no waiting request refuses (exit 1) and writes no response file", async () => {
  const dir = makeProject(
    {},
    "process:\n  command: [sleep, '1']\nhealing:\n  claude:\n    mode: interactive\n",
  );
  const r = await run(["healer", "respond", "--action", "restart"], { cwd: dir });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain("autosentry healer respond: no recovery request is waiting (");
  expect(r.stderr).toContain("); nothing written");
  const files = fs.existsSync(path.join(dir, ".autosentry"))
    ? fs.readdirSync(path.join(dir, ".autosentry"), { recursive: true })
    : [];
  expect(files.map(String).filter((f) => f.includes("response"))).toEqual([]);
});
