/**
 * The real Claude Code CLI (devDependency) against the fake Messages API on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FakeStep } from "../../../tests/fakes/anthropic.ts";
import { CLAUDE, useFakeClaude } from "../../../tests/fakes/claude-env.ts";
import { makeTempRepo, type TempRepo } from "../../../tests/fakes/temp-repo.ts";
import { groupMembers, pidAlive } from "../../util/proc.ts";
import { parseActionBlock } from "./action-block.ts";
import { claudeArgv, findClaudeCli, runClaude } from "./claude-cli.ts";
import { isDisablingFailure } from "./failure.ts";

const T = 60_000;

const claude = useFakeClaude();
const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.remove();
});

/** The CLI's environment without a retry override: these tests see runClaude's own default. */
function env(): Record<string, string> {
  const e = claude.env();
  delete e.CLAUDE_CODE_MAX_RETRIES;
  return e;
}

function project(): TempRepo {
  const r = makeTempRepo({ "train.yaml": "lr: 0.1\nepochs: 3\n" });
  repos.push(r);
  return r;
}

function script(steps: FakeStep[]): number {
  claude.fake.setScript(steps);
  return claude.fake.requests.length;
}

const PROMPT = "autosentry incident 42: the loss diverged. Fix it.\nEnd with an ACTION block.";

describe("runClaude (real CLI, fake API)", () => {
  test(
    "Read → Edit → answer: edits the file in the tree (acceptEdits), prompt on stdin, JSON result parsed",
    async () => {
      const r = project();
      const file = path.join(r.dir, "train.yaml");
      const from = script([
        { tool_use: { name: "Read", input: { file_path: file } } },
        {
          tool_use: {
            name: "Edit",
            input: { file_path: file, old_string: "lr: 0.1", new_string: "lr: 0.01" },
          },
        },
        { text: "The learning rate was too high; lowered it.\n\nACTION: restart" },
      ]);
      const res = await runClaude({
        command: [CLAUDE],
        prompt: PROMPT,
        cwd: r.dir,
        env: env(),
        timeoutMs: T,
        maxTurns: 5,
      });
      expect(res.failure).toBeNull();
      expect(res.ok).toBe(true);
      expect(res.numTurns).toBe(3);
      expect(res.subtype).toBe("success");
      expect(res.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(parseActionBlock(res.text).action?.kind).toBe("restart");
      expect(r.read("train.yaml")).toBe("lr: 0.01\nepochs: 3\n");
      // The prompt reached the model through stdin and is nowhere in argv.
      expect(res.argv.join(" ")).not.toContain("incident 42");
      expect(res.argv).toEqual(
        expect.arrayContaining([
          "-p",
          "--output-format",
          "json",
          "--permission-mode",
          "acceptEdits",
          "--max-turns",
          "5",
        ]),
      );
      const first = claude.fake.requests
        .slice(from)
        .find((q) => q.path === "/v1/messages" && q.body !== null);
      expect(JSON.stringify(first!.body)).toContain("autosentry incident 42: the loss diverged");
    },
    T,
  );

  test(
    "the shell tool is removed (an rm inside the tree does not run); project hooks do not run",
    async () => {
      const r = project();
      const marker = path.join(r.dir, "hook-ran");
      r.write(
        ".claude/settings.local.json",
        JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: "command", command: `touch ${marker}` }] }] } }),
      );
      const from = script([
        {
          tool_use: {
            name: "Bash",
            input: { command: `rm ${path.join(r.dir, "train.yaml")}`, description: "x" },
          },
        },
        { text: "ACTION: pause" },
      ]);
      const res = await runClaude({
        command: [CLAUDE],
        prompt: PROMPT,
        cwd: r.dir,
        env: env(),
        timeoutMs: T,
        maxTurns: 5,
      });
      expect(res.ok).toBe(true);
      expect(r.exists("train.yaml")).toBe(true);
      expect(fs.existsSync(marker)).toBe(false);
      const turns = claude.fake.requests.slice(from).filter((q) => q.path === "/v1/messages");
      const tools = (turns[0]!.body as { tools: { name: string }[] }).tools.map((t) => t.name);
      expect(tools).toContain("Edit");
      expect(tools).not.toContain("Bash");
      expect(JSON.stringify(turns[1]!.body)).toContain("No such tool available: Bash");
    },
    T,
  );

  test(
    "allowShell keeps Bash; a command acceptEdits does not cover is denied and reported",
    async () => {
      const r = project();
      const outside = path.join(claude.home, "outside-marker");
      script([
        { tool_use: { name: "Bash", input: { command: `touch ${outside}`, description: "x" } } },
        { text: "ACTION: pause" },
      ]);
      const res = await runClaude({
        command: [CLAUDE],
        prompt: PROMPT,
        cwd: r.dir,
        env: env(),
        timeoutMs: T,
        maxTurns: 5,
        allowShell: true,
      });
      expect(res.ok).toBe(true);
      expect(res.permissionDenials).toEqual([
        { tool_name: "Bash", tool_input: { command: `touch ${outside}`, description: "x" } },
      ]);
      expect(fs.existsSync(outside)).toBe(false);
    },
    T,
  );

  test(
    "401 → auth failure (disabling), a bounded number of requests",
    async () => {
      const r = project();
      const from = script([{ status: 401, message: "invalid x-api-key" }]);
      const res = await runClaude({
        command: [CLAUDE],
        prompt: PROMPT,
        cwd: r.dir,
        env: env(),
        timeoutMs: T,
        maxTurns: 5,
      });
      expect(res.ok).toBe(false);
      expect(res.failure?.kind).toBe("auth");
      expect(res.failure?.message).toContain("Invalid API key");
      expect(isDisablingFailure(res.failure!.kind)).toBe(true);
      const tries = claude.fake.requests.slice(from).filter((q) => q.path === "/v1/messages").length;
      expect(tries).toBeGreaterThanOrEqual(1);
      expect(tries).toBeLessThanOrEqual(3);
    },
    T,
  );

  test(
    "529 overloaded → quota failure (disabling), status kept",
    async () => {
      const r = project();
      script([{ status: 529, message: "Overloaded" }]);
      const res = await runClaude({
        command: [CLAUDE],
        prompt: PROMPT,
        cwd: r.dir,
        env: env(),
        timeoutMs: T,
        maxTurns: 5,
      });
      expect(res.failure?.kind).toBe("quota");
      expect(res.failure?.status).toBe(529);
      expect(res.apiErrorStatus).toBe(529);
      expect(isDisablingFailure("quota")).toBe(true);
    },
    T,
  );

  test(
    "500 → api_error, not disabling",
    async () => {
      const r = project();
      script([{ status: 500, message: "boom" }]);
      const res = await runClaude({
        command: [CLAUDE],
        prompt: PROMPT,
        cwd: r.dir,
        env: { ...env(), CLAUDE_CODE_MAX_RETRIES: "0" },
        timeoutMs: T,
        maxTurns: 5,
      });
      expect(res.failure?.kind).toBe("api_error");
      expect(isDisablingFailure("api_error")).toBe(false);
    },
    T,
  );

  test(
    "the turn cap → max_turns",
    async () => {
      const r = project();
      const file = path.join(r.dir, "train.yaml");
      script([
        { tool_use: { name: "Read", input: { file_path: file } } },
        { tool_use: { name: "Read", input: { file_path: file } } },
        { text: "ACTION: restart" },
      ]);
      const res = await runClaude({
        command: [CLAUDE],
        prompt: PROMPT,
        cwd: r.dir,
        env: env(),
        timeoutMs: T,
        maxTurns: 1,
      });
      expect(res.failure?.kind).toBe("max_turns");
      expect(isDisablingFailure("max_turns")).toBe(false);
    },
    T,
  );

  test("a missing CLI → missing_cli (disabling)", async () => {
    const r = project();
    const res = await runClaude({
      command: [path.join(r.dir, "no-such-claude")],
      prompt: PROMPT,
      cwd: r.dir,
      env: env(),
      timeoutMs: T,
      maxTurns: 5,
    });
    expect(res.failure?.kind).toBe("missing_cli");
    expect(isDisablingFailure("missing_cli")).toBe(true);
  });

  test(
    "timeout: a model that never answers; the whole process group is killed",
    async () => {
      const r = project();
      script([{ hang: true }]);
      const pidFile = path.join(r.dir, "bg.pid");
      // A wrapper that leaves a background process in the group, then becomes the CLI.
      const command = ["bash", "-c", 'sleep 300 & echo $! > "$BG_PID_FILE"; exec "$0" "$@"', CLAUDE];
      const res = await runClaude({
        command,
        prompt: PROMPT,
        cwd: r.dir,
        env: { ...env(), BG_PID_FILE: pidFile },
        timeoutMs: 3000,
        maxTurns: 5,
        killGraceMs: 500,
      });
      expect(res.failure?.kind).toBe("timeout");
      expect(isDisablingFailure("timeout")).toBe(false);
      const bg = Number(fs.readFileSync(pidFile, "utf8").trim());
      expect(bg).toBeGreaterThan(1);
      expect(pidAlive(bg)).toBe(false);
    },
    T,
  );

  test(
    "an abort signal stops the run and kills the group",
    async () => {
      const r = project();
      script([{ hang: true }]);
      const ac = new AbortController();
      const pidFile = path.join(r.dir, "leader.pid");
      const seen = claude.fake.requests.length;
      const command = ["bash", "-c", 'echo $$ > "$LEADER_PID_FILE"; exec "$0" "$@"', CLAUDE];
      const run = runClaude({
        command,
        prompt: PROMPT,
        cwd: r.dir,
        env: { ...env(), LEADER_PID_FILE: pidFile },
        timeoutMs: T,
        maxTurns: 5,
        signal: ac.signal,
        killGraceMs: 500,
      });
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") await Bun.sleep(20);
      // Let the CLI reach the hanging request before aborting.
      while (claude.fake.requests.length === seen) await Bun.sleep(20);
      ac.abort();
      const res = await run;
      expect(res.failure?.kind).toBe("aborted");
      const leader = Number(fs.readFileSync(pidFile, "utf8").trim());
      expect(groupMembers(leader)).toEqual([]);
    },
    T,
  );
});

describe("findClaudeCli", () => {
  test("an absolute path, a name on PATH, or null", () => {
    expect(findClaudeCli([CLAUDE])).toBe(CLAUDE);
    expect(findClaudeCli(["claude"], { PATH: path.dirname(CLAUDE) })).toBe(CLAUDE);
    expect(findClaudeCli(undefined, { PATH: "/nonexistent" })).toBeNull();
    expect(findClaudeCli(["/nonexistent/claude"])).toBeNull();
  });
});

describe("claudeArgv", () => {
  test("flags after the user's command prefix; add-dirs last; no prompt", () => {
    expect(
      claudeArgv({
        command: ["npx", "claude"],
        maxTurns: 7,
        addDirs: ["/a", "/b"],
        extraArgs: ["--model", "m"],
      }),
    ).toEqual([
      "npx",
      "claude",
      "--model",
      "m",
      "-p",
      "--output-format",
      "json",
      "--permission-mode",
      "acceptEdits",
      "--max-turns",
      "7",
      "--disallowedTools",
      "Bash",
      "--settings",
      '{"disableAllHooks":true}',
      "--add-dir",
      "/a",
      "--add-dir",
      "/b",
    ]);
    expect(claudeArgv({ maxTurns: 1, disableHooks: false, bare: true, allowShell: true })).toEqual([
      "claude",
      "-p",
      "--output-format",
      "json",
      "--permission-mode",
      "acceptEdits",
      "--max-turns",
      "1",
      "--bare",
    ]);
  });
});
