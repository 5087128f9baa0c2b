/**
 * End-to-end: rough edges a new user hit in the first hour (issue 14), each pinned by the binary.
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { makeProject, readState, run, start, testEnv, waitFor } from "./helpers.ts";

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

test("one episode, one detector name: the attempts ledger names the incident's detector, not the rule's", async () => {
  const dir = makeProject(
    {
      "job.sh": [
        'if [ "$BATCH_SIZE" = 32 ]; then echo done; exit 0; fi',
        'echo "Traceback (most recent call last):" >&2',
        'echo "  File \\"train.py\\", line 9, in step" >&2',
        'echo "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB" >&2',
        "exit 1",
      ].join("\n"),
    },
    `process:
  command: [sh, job.sh]
  env: { BATCH_SIZE: "64" }
  restart_policy: { cooldown_seconds: 0.1 }
detectors:
  - kind: traceback
  - { name: oom, kind: pattern, regex: "CUDA out of memory" }
rules:
  - { name: oom_halve_batch, match: { detector: oom }, action: { kind: restart_with_env, set: { BATCH_SIZE: half } } }
healing:
  verify_window_seconds: 0.5
`,
  );
  const r = await run(["run"], { cwd: dir });
  expect(r.code).toBe(0);
  const index = fs
    .readFileSync(path.join(dir, ".autosentry", "incidents", "index.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { detector: string; rule: string | null });
  const [head, ...rows] = fs
    .readFileSync(path.join(dir, ".autosentry", "attempts.tsv"), "utf8")
    .trim()
    .split("\n");
  const col = head!.split("\t").indexOf("detector");
  expect(rows).toHaveLength(1);
  expect(index.at(-1)!.rule).toBe("oom_halve_batch");
  expect(rows[0]!.split("\t")[col]).toBe(index.at(-1)!.detector);
});

test("abort -m: the reason is the stop reason, the operator is the account even without $USER, no fix is left 'verifying'", async () => {
  const dir = makeProject(
    {
      "job.sh": [
        'if [ "$MODE" = safe ]; then echo "running safely"; sleep 1000; fi',
        'echo "fatal: unsafe mode" >&2',
        "exit 2",
      ].join("\n"),
    },
    `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.1 }
detectors:
  - { name: fatal, kind: pattern, regex: "fatal: .*" }
rules:
  - { name: safe, match: { detector: fatal }, action: { kind: restart_with_env, set: { MODE: safe } } }
healing:
  verify_window_seconds: 600
`,
  );
  const mon = start(["run"], { cwd: dir });
  await waitFor(
    "the fix to be under verification",
    () => readState(dir)?.pending_verifications?.length === 1,
  );
  const env = testEnv();
  delete env.USER;
  delete env.LOGNAME;
  const abort = await run(["abort", "-m", "bad input data"], { cwd: dir, env });
  expect(abort.code).toBe(0);
  expect((await mon.wait()).code).toBe(130);
  const account = (Bun.spawnSync(["id", "-un"]).stdout.toString().trim() || "root") as string;
  const st = readState(dir)!;
  expect(st.stop_reason).toBe(`Operator abort from '${account}': bad input data`);
  expect(st.pending_verifications).toEqual([]);
  const status = await run(["status"], { cwd: dir });
  expect(status.stdout).not.toContain("verifying");
  expect(status.stdout).toContain("bad input data");
  expect(fs.readFileSync(path.join(dir, ".autosentry", "attempts.tsv"), "utf8")).toContain("\tdiscarded\t");
});

test("run says where the job's output goes; run --follow echoes it, stream by stream", async () => {
  const dir = makeProject(
    { "job.sh": 'echo "step 1 loss=0.5"\necho "warning: slow disk" >&2\necho "step 2 loss=0.4"\n' },
    "process:\n  command: [sh, job.sh]\n  lifecycle: one_shot\n",
  );
  const quiet = await run(["run"], { cwd: dir });
  expect(quiet.code).toBe(0);
  expect(quiet.stdout).toContain(
    "the job's output goes to .autosentry/logs/process.log (`autosentry run --follow` echoes it here)",
  );
  expect(quiet.stdout).not.toContain("step 1 loss=0.5");
  const follow = await run(["run", "--follow"], { cwd: dir });
  expect(follow.code).toBe(0);
  expect(follow.stdout).toContain(
    "the job's output is echoed below and kept in .autosentry/logs/process.log",
  );
  expect(follow.stdout).toMatch(/step 1 loss=0\.5\n(.*\n)*step 2 loss=0\.4\n/);
  expect(follow.stderr).toContain("warning: slow disk\n");
});
