/**
 * AgentHealer with real components: the Claude Code CLI (devDependency) and autosentry's own API
 * client against the fake Messages API on 127.0.0.1, real git repositories, real incident folders,
 * and `autosentry healer respond` (from source) as the interactive responder.
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CLAUDE, useFakeClaude } from "../../../tests/fakes/claude-env.ts";
import { makeTempRepo, type TempRepo } from "../../../tests/fakes/temp-repo.ts";
import { parseConfigText } from "../../config/load.ts";
import type { FixCommit } from "../../fixes/capture.ts";
import { FsIncidentStore } from "../../incidents/store.ts";
import { newIncident, tracebackDetection } from "../../incidents/test-fixtures.ts";
import { MemoryLogger } from "../../util/logger.ts";
import type { HealContext } from "../types.ts";
import { AgentHealer } from "./healer.ts";

const MAIN = path.resolve(import.meta.dir, "../../../main.ts");
const T = 90_000;

const claude = useFakeClaude("autosentry-healer-home-");
const repos: TempRepo[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const r of repos.splice(0)) r.remove();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => claude.env(extra);

/** A project (a git repo with the user's uncommitted work) and an incident folder in it. */
async function setup(yaml: string, opts: { git?: boolean } = {}) {
  let root: string;
  let repo: TempRepo | null = null;
  const files = {
    "train.py":
      "import yaml\ncfg = yaml.safe_load(open('config.yaml'))\nassert cfg['lr'] < 0.05, 'lr too high'\n",
    "config.yaml": "lr: 0.1\nepochs: 3\n",
    "README.md": "# model\n",
  };
  if (opts.git !== false) {
    repo = makeTempRepo(files);
    repos.push(repo);
    root = repo.dir;
    // The user's own work in progress, before the incident.
    repo.write("README.md", "# model\n\nWork in progress by the user.\n");
  } else {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-nogit-")));
    dirs.push(root);
    for (const [k, v] of Object.entries(files)) fs.writeFileSync(path.join(root, k), v);
  }
  fs.mkdirSync(path.join(root, ".autosentry"), { recursive: true });
  fs.writeFileSync(path.join(root, ".autosentry/autosentry.yaml"), yaml);
  const config = parseConfigText(yaml, { file: "autosentry.yaml", root, env: {} }).data;
  const logger = new MemoryLogger();
  const store = new FsIncidentStore({ dir: config.incidents_dir, logger });
  const det = tracebackDetection({ message: "AssertionError: lr too high", exceptionType: "AssertionError" });
  const inc = await store.create(
    newIncident({
      detection: det,
      related: [det],
      process: { kind: "local", argv: ["python", "train.py"], cwd: root, pid: 1 },
    }),
  );
  const disabled: Array<[string, string]> = [];
  const make = (e: Record<string, string> = env()) =>
    new AgentHealer({
      config,
      root,
      logger,
      redact: (s) => s.replaceAll("sk-secret-123", "[REDACTED]"),
      env: e,
      onDisabled: (reason, kind) => disabled.push([reason, kind]),
    });
  const ctx = (): HealContext & { notes: string[] } => ({
    incidentId: inc.id,
    incidentDir: inc.dir,
    detection: det,
    related: [det],
    signal: new AbortController().signal,
    notes: [],
  });
  return { root, repo, config, logger, inc, disabled, make, ctx };
}

const SUBPROCESS = `process:
  command: [python, train.py]
healing:
  claude:
    mode: subprocess
    command: [${JSON.stringify(CLAUDE)}]
    timeout_seconds: 60
    max_turns: 8
`;

/** The text of every user message the fake received in agent turns. */
function promptsSeen(from: number): string {
  return JSON.stringify(
    claude.fake
      .agentRequests()
      .slice(from)
      .map((r) => (r.body as { messages: unknown }).messages),
  );
}

describe("AgentHealer: subprocess (real Claude Code CLI)", () => {
  test(
    "the agent's Edit is committed on the fix branch on top of the dirty tree; HEAD, index and the user's edit untouched",
    async () => {
      const s = await setup(SUBPROCESS);
      const repo = s.repo!;
      const yaml = path.join(s.root, "config.yaml");
      const before = repo.state();
      const seen = claude.fake.agentRequests().length;
      claude.fake.setScript([
        { tool_use: { name: "Read", input: { file_path: yaml } } },
        {
          tool_use: {
            name: "Edit",
            input: { file_path: yaml, old_string: "lr: 0.1", new_string: "lr: 0.01" },
          },
        },
        {
          text: "train.py asserts lr < 0.05 and config.yaml has 0.1 (key sk-secret-123); lowered it.\n\nACTION: restart",
        },
      ]);
      const healer = s.make();
      expect(healer.mode).toBe("subprocess");
      const ctx = s.ctx();
      const out = await healer.heal(ctx);
      expect(out).not.toBeNull();
      expect(out!.action).toEqual({ kind: "restart", set: {}, command: [], notify: true });
      expect(out!.source).toBe("claude");
      expect(out!.detection.message).toBe("AssertionError: lr too high");
      expect(out!.rationale).toBe(
        "train.py asserts lr < 0.05 and config.yaml has 0.1 (key [REDACTED]); lowered it.",
      );
      expect(out!.response).toContain("ACTION: restart");
      expect(out!.response).not.toContain("sk-secret-123");
      expect(out!.diff).toContain("-lr: 0.1\n+lr: 0.01");

      const fix = out!.fix as FixCommit;
      expect(fix.branch).toBe(`autosentry/fix-${s.inc.id}`);
      expect(fix.files).toEqual([{ path: "config.yaml", status: "modified" }]);
      // Parent of the fix: the working tree as it was (the user's uncommitted README included).
      expect(repo.git("rev-parse", `${fix.branch}^`).trim()).toBe(fix.snapshotCommit);
      expect(fix.snapshotCommit).not.toBe(fix.baseCommit);
      expect(repo.git("rev-parse", `${fix.branch}^^`).trim()).toBe(before.refs["refs/heads/main"]!);
      expect(repo.git("show", `${fix.snapshotCommit}:README.md`)).toBe(
        "# model\n\nWork in progress by the user.\n",
      );
      expect(repo.git("diff", "--name-only", `${fix.branch}^`, fix.branch!).trim()).toBe("config.yaml");
      // The user's repository state: HEAD, index, stash, their edit — unchanged; one new branch.
      const after = repo.state();
      expect(after.head).toBe(before.head);
      expect(after.index).toBe(before.index);
      expect(after.stash).toBe(before.stash);
      expect(after.refs).toEqual({ ...before.refs, [`refs/heads/${fix.branch}`]: fix.commit });
      expect(repo.read("README.md")).toBe("# model\n\nWork in progress by the user.\n");
      expect(repo.read("config.yaml")).toBe("lr: 0.01\nepochs: 3\n");
      // The patch is in the incident folder; the fix survives a JSON round trip (state.json).
      expect(fs.readFileSync(path.join(s.inc.dir, "fix/diff.patch"), "utf8")).toBe(fix.diff);
      expect(JSON.parse(JSON.stringify(fix))).toEqual(fix);
      // The prompt named the incident and its folder; it ran in the project with acceptEdits.
      const prompts = promptsSeen(seen);
      expect(prompts).toContain(s.inc.id);
      expect(prompts).toContain(s.inc.dir);
      expect(s.disabled).toEqual([]);
    },
    T,
  );

  test(
    "no valid ACTION: null with a note; reply and diff kept in the incident, edits on the branch and out of the tree",
    async () => {
      const s = await setup(SUBPROCESS);
      const repo = s.repo!;
      const yaml = path.join(s.root, "config.yaml");
      claude.fake.setScript([
        { tool_use: { name: "Read", input: { file_path: yaml } } },
        {
          tool_use: {
            name: "Edit",
            input: { file_path: yaml, old_string: "epochs: 3", new_string: "epochs: 1" },
          },
        },
        { text: "I reduced the epochs. Restart it, I suppose (sk-secret-123)." },
      ]);
      const ctx = s.ctx();
      expect(await s.make().heal(ctx)).toBeNull();
      expect(ctx.notes).toContain("agent reply: no ACTION line in the reply");
      expect(ctx.notes).toContain("the agent's reply has no valid ACTION block: the restart policy decides");
      const branch = `autosentry/fix-${s.inc.id}`;
      expect(ctx.notes.at(-1)).toBe(
        `the agent's reply has no valid ACTION block; the agent's edits to config.yaml are kept on branch ${branch} and in fix/diff.patch and taken back out of the working tree`,
      );
      expect(fs.readFileSync(path.join(s.inc.dir, "fix/claude_response.md"), "utf8")).toBe(
        "I reduced the epochs. Restart it, I suppose ([REDACTED]).",
      );
      expect(fs.readFileSync(path.join(s.inc.dir, "fix/diff.patch"), "utf8")).toContain(
        "-epochs: 3\n+epochs: 1",
      );
      expect(repo.git("show", `${branch}:config.yaml`)).toBe("lr: 0.1\nepochs: 1\n");
      expect(repo.read("config.yaml")).toBe("lr: 0.1\nepochs: 3\n");
      expect(repo.read("README.md")).toBe("# model\n\nWork in progress by the user.\n");
      expect(repo.git("status", "--porcelain", "--untracked-files=no")).toBe(" M README.md\n");
    },
    T,
  );

  for (const [status, kind] of [
    [401, "auth"],
    [529, "quota"],
  ] as const) {
    test(
      `${status}: onDisabled once, then rules only without running the CLI again`,
      async () => {
        const s = await setup(SUBPROCESS);
        claude.fake.setScript([{ status }, { status }, { status }, { status }]);
        const healer = s.make();
        const first = s.ctx();
        expect(await healer.heal(first)).toBeNull();
        expect(s.disabled).toHaveLength(1);
        expect(s.disabled[0]![1]).toBe(kind);
        expect(healer.disabled?.kind).toBe(kind);
        expect(healer.active).toBe(false);
        expect(first.notes.some((n) => n.startsWith("the agent gave no answer: Claude Code"))).toBe(true);
        const requests = claude.fake.requests.length;
        for (let i = 0; i < 3; i++) {
          const ctx = s.ctx();
          expect(await healer.heal(ctx)).toBeNull();
          expect(ctx.notes[0]).toStartWith("agent healing is off for the rest of this run (");
        }
        expect(claude.fake.requests.length).toBe(requests);
        expect(s.disabled).toHaveLength(1);
        expect(s.repo!.read("config.yaml")).toBe("lr: 0.1\nepochs: 3\n");
      },
      T,
    );
  }

  test("a CLI that is not installed: disabled once, nothing spawned", async () => {
    const s = await setup(SUBPROCESS.replace(JSON.stringify(CLAUDE), "/nonexistent/claude"));
    const healer = s.make();
    expect(healer.mode).toBe("subprocess");
    expect(await healer.heal(s.ctx())).toBeNull();
    expect(await healer.heal(s.ctx())).toBeNull();
    expect(s.disabled).toEqual([
      ["Claude Code CLI not found: /nonexistent/claude is not on PATH", "missing_cli"],
    ]);
  });

  test(
    "outside a git repository the agent may not edit (edits could not be undone); its action still counts",
    async () => {
      const s = await setup(SUBPROCESS, { git: false });
      const yaml = path.join(s.root, "config.yaml");
      claude.fake.setScript([
        {
          tool_use: {
            name: "Edit",
            input: { file_path: yaml, old_string: "lr: 0.1", new_string: "lr: 0.01" },
          },
        },
        { text: "Could not edit; lower lr in config.yaml by hand.\nACTION: pause" },
      ]);
      const ctx = s.ctx();
      const out = await s.make().heal(ctx);
      expect(out?.action.kind).toBe("pause");
      expect(out?.fix).toBeUndefined();
      expect(fs.readFileSync(yaml, "utf8")).toBe("lr: 0.1\nepochs: 3\n");
      expect(ctx.notes[0]).toBe(
        `${s.root} is not in a git repository: the agent may not edit files (its edits could not be captured or undone)`,
      );
      expect(ctx.notes.some((n) => n.startsWith("Claude Code was refused Edit"))).toBe(true);
    },
    T,
  );
});

describe("AgentHealer: api (autosentry's Messages API client)", () => {
  const API = (key = "TEST_KEY") => `process:
  command: [python, train.py]
healing:
  claude:
    mode: api
    api: { base_url: "${claude.fake.url}", api_key_env: ${key}, model: claude-test, max_steps: 3 }
`;

  test("read-only tools, a proposed action, no fix", async () => {
    const s = await setup(API());
    claude.fake.setScript([
      { tool_use: { name: "read_file", input: { path: "config.yaml" } } },
      { text: "lr 0.1 is above the assert in train.py; set it to 0.01 by hand.\nACTION: pause" },
    ]);
    const seen = claude.fake.agentRequests().length;
    const out = await s.make(env({ TEST_KEY: "k-1" })).heal(s.ctx());
    expect(out?.action.kind).toBe("pause");
    expect(out?.source).toBe("claude");
    expect(out?.fix).toBeUndefined();
    expect(out?.rationale).toBe("lr 0.1 is above the assert in train.py; set it to 0.01 by hand.");
    const reqs = claude.fake.agentRequests().slice(seen);
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.headers["x-api-key"]).toBe("k-1");
    expect((reqs[0]!.body as { model: string }).model).toBe("claude-test");
    expect(promptsSeen(seen)).toContain("lr: 0.1");
    expect(s.repo!.read("config.yaml")).toBe("lr: 0.1\nepochs: 3\n");
  });

  test("no key: disabled once without a request; a 401: disabled once", async () => {
    const s = await setup(API("ABSENT_KEY"));
    const requests = claude.fake.requests.length;
    const h = s.make();
    expect(await h.heal(s.ctx())).toBeNull();
    expect(await h.heal(s.ctx())).toBeNull();
    expect(s.disabled).toEqual([["no API key: ABSENT_KEY is not set", "auth"]]);
    expect(claude.fake.requests.length).toBe(requests);

    const t = await setup(API());
    claude.fake.setScript([{ status: 401 }]);
    const h2 = t.make(env({ TEST_KEY: "bad" }));
    expect(await h2.heal(t.ctx())).toBeNull();
    const after = claude.fake.requests.length;
    expect(await h2.heal(t.ctx())).toBeNull();
    expect(claude.fake.requests.length).toBe(after);
    expect(t.disabled).toHaveLength(1);
    expect(t.disabled[0]![1]).toBe("auth");
  });
});

describe("AgentHealer: interactive", () => {
  test(
    "the request names the incident and subagent; `healer respond` answers; the responder's edit is captured",
    async () => {
      const s = await setup(`process:
  command: [python, train.py]
healing:
  claude:
    mode: interactive
    timeout_seconds: 60
    subagents:
      traceback: { type: debugger, description: "Find the failing assert" }
`);
      const c = s.config.healing.claude;
      const ctx = s.ctx();
      const healing = s.make().heal(ctx);
      for (let i = 0; !fs.existsSync(c.request_path); i++) {
        if (i > 600) throw new Error("no request file");
        await Bun.sleep(50);
      }
      const req = fs.readFileSync(c.request_path, "utf8");
      expect(req).toContain(`incident_id: "${s.inc.id}"`);
      expect(req).toContain('subagent:\n  type: "debugger"\n  description: "Find the failing assert"');
      expect(req).toContain("timeout_seconds: 60");
      expect(req).toContain(s.inc.dir);
      // The responder fixes the file, then answers.
      s.repo!.write("config.yaml", "lr: 0.01\nepochs: 3\n");
      const p = Bun.spawnSync(
        [
          process.execPath,
          MAIN,
          "healer",
          "respond",
          "--action",
          "restart_with_env",
          "--set",
          "BATCH=half",
          "-d",
          "lr",
        ],
        { cwd: s.root },
      );
      expect(p.exitCode).toBe(0);
      const out = await healing;
      expect(out?.action).toEqual({
        kind: "restart_with_env",
        set: { BATCH: "half" },
        command: [],
        notify: true,
      });
      expect(out?.rationale).toBe("lr");
      const fix = out?.fix as FixCommit;
      expect(fix.files).toEqual([{ path: "config.yaml", status: "modified" }]);
      expect(fs.existsSync(c.request_path)).toBe(false);
    },
    T,
  );
});

describe("AgentHealer: session and disabled", () => {
  test("session: heal() answers null with a note and runs nothing", async () => {
    const s = await setup("process:\n  command: [python, train.py]\ndispatch: { mode: session }\n");
    const h = s.make();
    expect(h.mode).toBe("session");
    expect(h.active).toBe(false);
    const ctx = s.ctx();
    expect(await h.heal(ctx)).toBeNull();
    expect(ctx.notes).toEqual(["dispatch is session: the incident waits for the Claude Code session"]);
  });

  test("disabled: null, with why", async () => {
    const s = await setup(
      "process:\n  command: [python, train.py]\nhealing:\n  claude: { enabled: false }\n",
    );
    const ctx = s.ctx();
    expect(await s.make().heal(ctx)).toBeNull();
    expect(ctx.notes).toEqual(["no agent: healing.claude.enabled is false: rules only"]);
  });
});
