/**
 * End-to-end: rough edges a new user hit in the first hour (issue 14), each pinned by the binary.
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { startFakeOpenAi } from "../fakes/openai.ts";
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

test("api mode with provider openai heals through a self-hosted Chat Completions server (no key)", async () => {
  const fake = await startFakeOpenAi({
    script: [
      { tool_calls: [{ name: "view_log_excerpt" }] },
      { text: "The job needs FIXED=1.\nACTION: restart_with_env\nSET: FIXED=1" },
    ],
  });
  try {
    const dir = makeProject(
      {
        "job.sh": [
          "#!/bin/sh",
          'if [ "$FIXED" = 1 ]; then echo "all good"; exit 0; fi',
          'echo "Traceback (most recent call last):" >&2',
          'echo "  File \\"train.py\\", line 3, in <module>" >&2',
          "echo \"KeyError: 'learning_rate'\" >&2",
          "exit 1",
        ].join("\n"),
      },
      `process:
  command: [sh, job.sh]
  lifecycle: one_shot
  restart_policy: { max_restarts: 2, cooldown_seconds: 0.1 }
detectors:
  - kind: traceback
healing:
  escalate_to_claude_after: 1
  verify_window_seconds: 0.5
  claude:
    mode: api
    api: { provider: openai, base_url: "${fake.url}", model: local-qwen }
`,
    );
    const r = await run(["run"], { cwd: dir });
    const asked = fake.requests.filter((q) => q.path === "/v1/chat/completions");
    expect({ code: r.code, asked: asked.length }).toEqual({ code: 0, asked: 2 });
    expect((asked[0]!.body as { model: string }).model).toBe("local-qwen");
    expect(asked[0]!.headers.authorization).toBeUndefined();
    expect(r.stdout).toContain("asking the Chat Completions API about incident");
    expect(r.stdout).toContain("FIXED=1");
  } finally {
    await fake.close();
  }
});
