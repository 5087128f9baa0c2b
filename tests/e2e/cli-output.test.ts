/**
 * End-to-end: a command whose own output cannot be written (a closed pipe, a full device) ends
 * with an exit code and at most one line, never a stack trace.
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import { BIN, makeProject, testEnv } from "./helpers.ts";

/** Run the binary with stdout connected to a pipe whose reading end is already closed. */
function runIntoClosedPipe(args: string[], cwd: string): { code: number; stderr: string } {
  const script = [
    "import os, subprocess, sys",
    "r, w = os.pipe(); os.close(r)",
    "p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)",
    "sys.stderr.buffer.write(p.stderr); sys.exit(p.returncode)",
  ].join("\n");
  const p = Bun.spawnSync(["python3", "-c", script, BIN, ...args], { cwd, env: testEnv(), stderr: "pipe" });
  return { code: p.exitCode ?? -1, stderr: p.stderr.toString() };
}

test("a closed pipe ends a command quietly with 141 (as SIGPIPE would)", () => {
  const dir = makeProject();
  // status and --version write to fd 1 without process.stdout (issue 13): the same answers.
  for (const args of [
    ["init", "--non-interactive"],
    ["config", "schema"],
    ["--help"],
    ["status"],
    ["--version"],
  ]) {
    const r = runIntoClosedPipe(args, dir);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 141, stderr: "" });
  }
});

test("a full device gives one line and exit 1, no stack trace", () => {
  const dir = makeProject({}, "process:\n  command: [sleep, '1']\n");
  const out = fs.openSync("/dev/full", "w");
  try {
    for (const args of [["status"], ["config", "schema"], ["--version"], ["status", "--json"]]) {
      const p = Bun.spawnSync([BIN, ...args], { cwd: dir, env: testEnv(), stdout: out, stderr: "pipe" });
      const stderr = p.stderr.toString();
      expect({ args, code: p.exitCode, stderr }).toEqual({
        args,
        code: 1,
        stderr: "autosentry: cannot write output: ENOSPC\n",
      });
    }
  } finally {
    fs.closeSync(out);
  }
});
