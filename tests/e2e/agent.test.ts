/**
 * End-to-end: dist/autosentry healing with an agent. The real Claude Code CLI (devDependency, on
 * PATH) talks to the fake Messages API on 127.0.0.1, edits a real git repository through its Edit
 * tool, and autosentry commits, verifies, keeps or reverts the fix; interactive mode is driven
 * through the request file and `autosentry healer respond`; session mode through `probe`, the Stop
 * hook and `session apply`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useFakeClaude } from "../fakes/claude-env.ts";
import { makeTempRepo, type TempRepo } from "../fakes/temp-repo.ts";
import {
  BIN,
  FIXTURES,
  incidentIds,
  journal,
  readFile,
  readState,
  run,
  start,
  testEnv,
  waitFor,
} from "./helpers.ts";

const T = 150_000;
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, "agent", name), "utf8");

const claude = useFakeClaude("as-e2e-claude-home-");
const repos: TempRepo[] = [];

afterEach(() => {
  if (process.env.AUTOSENTRY_KEEP_TEST_DIRS) return;
  for (const r of repos.splice(0)) r.remove();
});

/** The monitor's environment: the CLI on PATH, pointed at the fake, offline, one retry. */
function agentEnv(extra: Record<string, string> = {}): Record<string, string> {
  return testEnv(claude.env(extra, { withBin: true }));
}

/** A git project with the buggy job committed and `config` as its autosentry.yaml. */
function project(config: string, files: Record<string, string> = {}): TempRepo {
  const r = makeTempRepo({
    "train.mjs": fixture("train.mjs"),
    "stats.mjs": fixture("stats.mjs"),
    "workers.mjs": fixture("workers.mjs"),
    "README.md": "# toy model\n",
    ".gitignore": "runs.txt\n",
    ...files,
  });
  repos.push(r);
  r.write(".autosentry/.gitignore", "*\n");
  r.write(".autosentry/autosentry.yaml", config);
  return r;
}

/** The user's work in progress before the incident: a tracked edit and an untracked file. */
function userWork(r: TempRepo): Record<string, string> {
  r.write("README.md", "# toy model\n\nWIP: trying a cosine schedule (not committed yet).\n");
  r.write("notes/ideas.txt", "batch 64 → 128?\n");
  return { "README.md": r.read("README.md"), "notes/ideas.txt": r.read("notes/ideas.txt") };
}

/** attempts.tsv rows as objects. */
function attempts(dir: string): Array<Record<string, string>> {
  const file = path.join(dir, ".autosentry", "attempts.tsv");
  if (!fs.existsSync(file)) return [];
  const [head, ...rows] = fs.readFileSync(file, "utf8").trim().split("\n");
  const cols = head!.split("\t");
  return rows.map((row) => Object.fromEntries(row.split("\t").map((v, i) => [cols[i]!, v])));
}

/** Agent turns the fake saw whose prompt mentions `text`. */
/**
 * Agent requests that mention `text`, counting from the `from`-th agent request: the fake is shared
 * by the file's tests, and incident ids are per second, so an earlier test's incident can carry
 * the same id (a CI run counted 5 requests "about" this test's first incident).
 */
function agentTurnsAbout(text: string, from = 0): number {
  return claude.fake
    .agentRequests()
    .slice(from)
    .filter((r) => JSON.stringify(r.body).includes(text)).length;
}

const SUBPROCESS = (extra = "") => `process:
  command: [node, train.mjs]
  env: { HOLD_SECONDS: "3" }
  restart_policy: { cooldown_seconds: 0.2, max_restarts: 3 }
detectors:
  - kind: traceback
healing:
  verify_window_seconds: 1
  claude:
    mode: subprocess
    timeout_seconds: 90
    max_turns: 8
${extra}`;

describe("agent healing (subprocess, real Claude Code CLI)", () => {
  test(
    "a real bug fixed through the CLI's Edit tool: committed on the fix branch, restarted, verified, kept",
    async () => {
      const r = project(SUBPROCESS());
      const user = userWork(r);
      const before = r.state();
      const stats = path.join(r.dir, "stats.mjs");
      claude.fake.setScript([
        { tool_use: { name: "Read", input: { file_path: stats } } },
        {
          tool_use: {
            name: "Edit",
            input: { file_path: stats, old_string: "xs.lenght", new_string: "xs.length" },
          },
        },
        {
          text: "stats.mjs divides by `xs.lenght`, which is undefined, so the mean is NaN. Fixed the typo.\n\nACTION: restart",
        },
      ]);
      const res = await run(["run"], { cwd: r.dir, env: agentEnv(), timeoutMs: T });
      expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.read("runs.txt")).toBe("run\nrun\n");
      const ids = incidentIds(r.dir);
      expect(ids).toHaveLength(1);
      const id = ids[0]!;
      const branch = `autosentry/fix-${id}`;

      // The ledger: one attempt by the agent, on its branch, kept.
      expect(attempts(r.dir)).toMatchObject([{ incident_id: id, source: "claude", branch, status: "kept" }]);
      // The fix commit holds exactly the agent's edit; its parent is the tree as the user had it.
      expect(r.git("diff", "--name-only", `${branch}^`, branch).trim()).toBe("stats.mjs");
      expect(r.git("show", `${branch}:stats.mjs`)).toContain("xs.length;");
      expect(r.git("show", `${branch}^:README.md`)).toBe(user["README.md"]!);
      expect(r.git("rev-parse", `${branch}^^`).trim()).toBe(before.refs["refs/heads/main"]!);
      // HEAD, the index and the user's branch did not move; the user's work is as it was.
      const after = r.state();
      expect(after.head).toBe(before.head);
      expect(after.index).toBe(before.index);
      expect(after.refs["refs/heads/main"]).toBe(before.refs["refs/heads/main"]!);
      for (const [f, text] of Object.entries(user)) expect(r.read(f)).toBe(text);
      expect(r.read("stats.mjs")).toContain("xs.length;");
      // The incident holds the agent's reply, its diff and the outcome.
      const inc = `.autosentry/incidents/${id}`;
      expect(readFile(r.dir, `${inc}/fix/claude_response.md`)).toContain("ACTION: restart");
      expect(readFile(r.dir, `${inc}/fix/diff.patch`)).toContain(
        "-  return xs.reduce((a, b) => a + b, 0) / xs.lenght;",
      );
      expect(JSON.parse(readFile(r.dir, `${inc}/fix/action.json`)).kind).toBe("restart");
      expect(readFile(r.dir, `${inc}/report.md`)).toContain("claude");
      // The agent was asked about this incident, with its folder.
      expect(agentTurnsAbout(id)).toBeGreaterThan(0);
      expect(agentTurnsAbout(path.join(r.dir, inc))).toBeGreaterThan(0);
      expect(readState(r.dir)!.phase).toBe("completed");
    },
    T,
  );

  test(
    "a fix that does not help: regressed, the agent's edit reverted, the user's own edit intact byte for byte",
    async () => {
      const r = project(
        SUBPROCESS().replace("max_restarts: 3", "max_restarts: 3, max_identical_failures: 1"),
      );
      const user = userWork(r);
      const original = r.read("stats.mjs");
      const stats = path.join(r.dir, "stats.mjs");
      claude.fake.setScript([
        { tool_use: { name: "Read", input: { file_path: stats } } },
        {
          tool_use: {
            name: "Edit",
            input: {
              file_path: stats,
              old_string: "/** The arithmetic mean of a non-empty list. */",
              new_string: "/** The arithmetic mean of a non-empty list (checked by autosentry). */",
            },
          },
        },
        { text: "Looks like a flaky input; documented the contract.\n\nACTION: restart" },
      ]);
      const res = await run(["run"], { cwd: r.dir, env: agentEnv(), timeoutMs: T });
      expect(res.code).toBe(1);
      const ids = incidentIds(r.dir);
      expect(ids.length).toBeGreaterThanOrEqual(2);
      const branch = `autosentry/fix-${ids[0]}`;
      expect(attempts(r.dir)[0]).toMatchObject({
        incident_id: ids[0],
        source: "claude",
        branch,
        status: "regressed",
      });
      // Reverted: the agent's edit is gone from the tree, kept on its branch for a human.
      expect(r.read("stats.mjs")).toBe(original);
      expect(r.git("show", `${branch}:stats.mjs`)).toContain("(checked by autosentry)");
      for (const [f, text] of Object.entries(user)) expect(r.read(f)).toBe(text);
      expect(r.git("status", "--porcelain=v1", "--untracked-files=all", "--", ".", ":!.autosentry")).toBe(
        " M README.md\n?? notes/ideas.txt\n",
      );
    },
    T,
  );

  for (const [status, kind] of [
    [401, "auth"],
    [529, "quota"],
  ] as const) {
    test(
      `${status}: healing degrades to rules only, one notification, no retry storm`,
      async () => {
        const hooks: Array<{ kind: string; title: string; body: string }> = [];
        const server = Bun.serve({
          hostname: "127.0.0.1",
          port: 0,
          async fetch(req) {
            hooks.push((await req.json()) as { kind: string; title: string; body: string });
            return new Response("ok");
          },
        });
        try {
          const r = project(`process:
  command: [node, train.mjs]
  restart_policy: { cooldown_seconds: 0.1, max_restarts: 3, max_identical_failures: 0 }
detectors:
  - kind: traceback
healing:
  claude: { mode: subprocess, timeout_seconds: 90 }
notifiers:
  - { kind: webhook, url: "http://127.0.0.1:${server.port}/hook", retries: 0 }
`);
          claude.fake.setScript([{ status }, { status }, { status }, { status }]);
          const from = claude.fake.agentRequests().length;
          const res = await run(["run"], { cwd: r.dir, env: agentEnv(), timeoutMs: T });
          expect(res.code).toBe(1);
          const ids = incidentIds(r.dir);
          expect(ids).toHaveLength(4);
          // The agent was tried on the first incident only (one CLI run, at most its one retry).
          expect(agentTurnsAbout(ids[0]!, from)).toBeGreaterThanOrEqual(1);
          expect(agentTurnsAbout(ids[0]!, from)).toBeLessThanOrEqual(2);
          for (const id of ids.slice(1)) expect(agentTurnsAbout(id, from)).toBe(0);
          await waitFor("the webhook notifications", () => hooks.some((h) => h.kind === "exit"));
          const disabled = hooks.filter((h) => /agent healing disabled/i.test(h.title));
          expect(disabled).toHaveLength(1);
          expect(disabled[0]!.title).toContain(kind);
          expect(journal(r.dir).filter((e) => e.event === "agent_disabled")).toHaveLength(1);
          expect(r.read("stats.mjs")).toBe(fixture("stats.mjs"));
        } finally {
          server.stop(true);
        }
      },
      T,
    );
  }
});

describe("agent healing: pull requests", () => {
  test(
    "healing.github.open_pr: a kept fix is pushed and a pull request opened with the report as its body",
    async () => {
      const prs: Array<{ path: string; auth: string | null; body: Record<string, unknown> }> = [];
      const gh = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        async fetch(req) {
          const url = new URL(req.url);
          if (req.method === "POST" && /^\/api\/v3\/repos\/[^/]+\/[^/]+\/pulls$/.test(url.pathname)) {
            prs.push({
              path: url.pathname,
              auth: req.headers.get("authorization"),
              body: (await req.json()) as Record<string, unknown>,
            });
            return Response.json(
              { number: 12, html_url: "https://ghe.example/acme/toy/pull/12" },
              { status: 201 },
            );
          }
          return Response.json({ message: "Not Found" }, { status: 404 });
        },
      });
      const remote = fs.mkdtempSync(path.join(os.tmpdir(), "as-e2e-remote-"));
      try {
        const r = project(
          SUBPROCESS(`  github:
    open_pr: true
    api_url: http://127.0.0.1:${gh.port}/api/v3
    repo: acme/toy
`),
        );
        r.git("init", "-q", "--bare", remote);
        r.git("remote", "add", "origin", remote);
        userWork(r);
        const stats = path.join(r.dir, "stats.mjs");
        claude.fake.setScript([
          {
            tool_use: {
              name: "Edit",
              input: { file_path: stats, old_string: "xs.lenght", new_string: "xs.length" },
            },
          },
          { text: "Fixed the typo in stats.mjs.\n\nACTION: restart" },
        ]);
        const res = await run(["run"], {
          cwd: r.dir,
          env: agentEnv({ GITHUB_TOKEN: "ghs_test_token" }),
          timeoutMs: T,
        });
        expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
        const id = incidentIds(r.dir)[0]!;
        const branch = `autosentry/fix-${id}`;
        expect(prs).toHaveLength(1);
        expect(prs[0]!.path).toBe("/api/v3/repos/acme/toy/pulls");
        expect(prs[0]!.auth).toContain("ghs_test_token");
        expect(prs[0]!.body).toMatchObject({
          head: branch,
          base: "main",
          title: `autosentry: fix for incident ${id}`,
        });
        expect(String(prs[0]!.body.body)).toContain("# Incident");
        // The pushed branch holds only the agent's edit on the base commit (the user's WIP stays local).
        const onRemote = (...a: string[]) => r.git("--git-dir", remote, ...a);
        expect(onRemote("diff", "--name-only", `${branch}^`, branch).trim()).toBe("stats.mjs");
        expect(onRemote("show", `${branch}:README.md`)).toBe("# toy model\n");
        expect(
          journal(r.dir).some(
            (e) => e.event === "pull_request_opened" && e.url === "https://ghe.example/acme/toy/pull/12",
          ),
        ).toBe(true);
      } finally {
        gh.stop(true);
        fs.rmSync(remote, { recursive: true, force: true });
      }
    },
    T,
  );
});

describe("agent healing (interactive)", () => {
  test(
    "the request file names the real incident; `autosentry healer respond` answers; the fix is kept",
    async () => {
      const r = project(`process:
  command: [node, train.mjs]
  env: { HOLD_SECONDS: "2" }
  restart_policy: { cooldown_seconds: 0.2, max_restarts: 3 }
detectors:
  - kind: traceback
healing:
  verify_window_seconds: 1
  claude:
    mode: interactive
    timeout_seconds: 120
    subagents:
      default: { type: debugger, description: "Find why the job stopped" }
`);
      const mon = start(["run"], { cwd: r.dir, env: testEnv() });
      const reqFile = path.join(r.dir, ".autosentry", "recovery_request.md");
      const req = await waitFor(
        "the recovery request",
        () => fs.existsSync(reqFile) && fs.readFileSync(reqFile, "utf8"),
        60_000,
      ).catch((err) => {
        mon.proc.kill("SIGKILL");
        throw err;
      });
      const id = incidentIds(r.dir)[0]!;
      expect(req).toContain(`incident_id: "${id}"`);
      expect(req).toContain('subagent:\n  type: "debugger"\n  description: "Find why the job stopped"');
      expect(req).toContain("timeout_seconds: 120");
      expect(req).toContain("mean of the batch is NaN");
      // The responder fixes the bug, then answers.
      r.write("stats.mjs", r.read("stats.mjs").replace("xs.lenght", "xs.length"));
      const ans = await run(["healer", "respond", "--action", "restart", "-d", "typo in stats.mjs"], {
        cwd: r.dir,
      });
      expect(ans.code).toBe(0);
      expect(ans.stdout).toContain(`for incident ${id}`);
      const res = await mon.wait(T);
      expect(res.code).toBe(0);
      expect(r.read("runs.txt")).toBe("run\nrun\n");
      expect(fs.existsSync(reqFile)).toBe(false);
      expect(attempts(r.dir)).toMatchObject([
        { incident_id: id, source: "claude", branch: `autosentry/fix-${id}`, status: "kept" },
      ]);
      expect(readFile(r.dir, `.autosentry/incidents/${id}/fix/claude_response.md`)).toContain(
        "typo in stats.mjs",
      );
    },
    T,
  );
});

describe("session dispatch", () => {
  test(
    "probe and the Stop hook see the incident; `session apply` hands the action to the monitor",
    async () => {
      const r = project(`process:
  command: [node, workers.mjs]
  restart_policy: { cooldown_seconds: 600 }
detectors:
  - { name: deadlock, kind: pattern, regex: "fatal: dataloader deadlock" }
dispatch: { mode: session }
`);
      const hook = await run(["hooks", "install"], { cwd: r.dir });
      expect(hook.code).toBe(0);
      expect(hook.stderr).toBe("");
      const settings = JSON.parse(r.read(".claude/settings.local.json"));
      const hookCommand: string = settings.hooks.Stop[0].hooks[0].command;
      expect(hookCommand).toBe(`${BIN} probe --inject-prompt --quiet`);

      const mon = start(["run"], { cwd: r.dir, env: testEnv() });
      const marker = path.join(r.dir, ".autosentry", "session_dispatch_request");
      await waitFor("the session marker", () => fs.existsSync(marker), 60_000).catch((err) => {
        mon.proc.kill("SIGKILL");
        throw err;
      });
      const id = incidentIds(r.dir)[0]!;

      const probe = await run(["probe"], { cwd: r.dir });
      expect(probe.code).toBe(1);
      const j = JSON.parse(probe.stdout);
      expect(j.monitor).toMatchObject({ running: true, pid: mon.pid, pid_alive: true, health: "healthy" });
      expect(j.dispatch_mode).toBe("session");
      expect(j.pending_incidents.map((p: { id: string }) => p.id)).toEqual([id]);
      expect(j.pending_incidents[0].detector).toBe("deadlock");

      // The Stop hook as Claude Code runs it: through a shell, hook input on stdin, exit 0.
      const runHook = (input: string) =>
        Bun.spawnSync(["sh", "-c", hookCommand], {
          cwd: r.dir,
          stdin: new TextEncoder().encode(input),
          env: testEnv(),
        });
      const blocked = runHook('{"hook_event_name":"Stop","stop_hook_active":false}');
      expect(blocked.exitCode).toBe(0);
      const decision = JSON.parse(blocked.stdout.toString());
      expect(decision.decision).toBe("block");
      expect(decision.reason).toContain(`- ${id} [deadlock] rule=no-rule — `);
      expect(decision.reason).toContain("fatal: dataloader deadlock");
      const again = runHook('{"hook_event_name":"Stop","stop_hook_active":true}');
      expect(again.exitCode).toBe(0);
      expect(again.stdout.toString()).toBe("");

      // The session decides: restart with WORKERS=1.
      const apply = await run(
        [
          "session",
          "apply",
          "--incident",
          id,
          "--action",
          "restart_with_env",
          "--set",
          "WORKERS=1",
          "--source",
          "claude",
        ],
        { cwd: r.dir },
      );
      expect(apply.code).toBe(0);
      expect(apply.stderr).toBe("");
      expect((await run(["probe", "--advance-cursor", id, "-q"], { cwd: r.dir })).code).toBe(0);
      expect(runHook('{"stop_hook_active":false}').stdout.toString()).toBe("");

      await waitFor(
        "the queued action to be applied",
        () => r.read("runs.txt") === "unset\n1\n",
        60_000,
      ).catch((err) => {
        mon.proc.kill("SIGKILL");
        throw err;
      });
      const res = await mon.wait(T);
      expect(res.code).toBe(0);
      expect(readState(r.dir)!.env_overlay).toEqual({ WORKERS: "1" });
      expect(
        fs.readFileSync(path.join(r.dir, ".autosentry", "session_action_cursor"), "utf8").trim(),
      ).toMatch(/^\d{20}-[0-9a-f]{8}$/);
    },
    T,
  );
});
