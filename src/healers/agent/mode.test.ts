import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseConfigText } from "../../config/load.ts";
import { resolveAgentMode, SKILL_MARKERS } from "./mode.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string> = {}): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-mode-")));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** A directory holding one executable named `name`, for a PATH. */
function binDir(name: string): string {
  const dir = project();
  fs.writeFileSync(path.join(dir, name), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  return dir;
}

function cfg(root: string, yaml: string) {
  return parseConfigText(yaml.trim() === "" ? "{}\n" : yaml, { file: "autosentry.yaml", root, env: {} }).data;
}

describe("resolveAgentMode", () => {
  test("auto without a skill, CLI or key: disabled, with the reason", () => {
    const root = project();
    const r = resolveAgentMode(cfg(root, ""), root, { PATH: project() });
    expect(r.mode).toBe("disabled");
    expect(r.why).toContain("no autosentry skill installed, no claude on PATH and no ANTHROPIC_API_KEY set");
  });

  test("a bare AGENTS.md does not select interactive mode", () => {
    const root = project({ "AGENTS.md": "# agents\nRun autosentry.\n" });
    expect(resolveAgentMode(cfg(root, ""), root, { PATH: project() }).mode).toBe("disabled");
    expect(resolveAgentMode(cfg(root, ""), root, { PATH: binDir("claude") }).mode).toBe("subprocess");
  });

  test("each installed skill marker selects interactive mode in auto, ahead of the CLI", () => {
    for (const marker of SKILL_MARKERS) {
      const root = project({ [marker]: "autosentry skill\n" });
      const r = resolveAgentMode(cfg(root, ""), root, { PATH: binDir("claude"), ANTHROPIC_API_KEY: "k" });
      expect(r.mode).toBe("interactive");
      expect(r.why).toContain(marker);
    }
  });

  test("a directory where a marker file should be is not a skill", () => {
    const root = project();
    fs.mkdirSync(path.join(root, ".claude/commands/autosentry.md"), { recursive: true });
    expect(resolveAgentMode(cfg(root, ""), root, { PATH: project() }).mode).toBe("disabled");
  });

  test("auto: the CLI on PATH → subprocess; else the API key → api", () => {
    const root = project();
    const withCli = resolveAgentMode(cfg(root, ""), root, { PATH: binDir("claude") });
    expect(withCli.mode).toBe("subprocess");
    const withKey = resolveAgentMode(cfg(root, ""), root, { PATH: project(), ANTHROPIC_API_KEY: "k" });
    expect(withKey).toEqual({
      mode: "api",
      why: "auto: no claude on PATH, but ANTHROPIC_API_KEY is set: the Messages API",
    });
    const otherKey = cfg(root, "healing:\n  claude:\n    api: { api_key_env: MY_KEY }\n");
    expect(resolveAgentMode(otherKey, root, { PATH: project(), ANTHROPIC_API_KEY: "k" }).mode).toBe(
      "disabled",
    );
    expect(resolveAgentMode(otherKey, root, { PATH: project(), MY_KEY: "k" }).mode).toBe("api");
  });

  test("auto looks for the configured command's first word", () => {
    const root = project();
    const c = cfg(root, "healing:\n  claude:\n    command: [my-agent, --flag]\n");
    expect(resolveAgentMode(c, root, { PATH: binDir("claude") }).mode).toBe("disabled");
    expect(resolveAgentMode(c, root, { PATH: binDir("my-agent") }).mode).toBe("subprocess");
  });

  test("enabled: false → rules only, whatever else is installed", () => {
    const root = project({ ".claude/commands/autosentry.md": "x" });
    const c = cfg(root, "healing:\n  claude: { enabled: false, mode: subprocess }\n");
    expect(resolveAgentMode(c, root, { PATH: binDir("claude"), ANTHROPIC_API_KEY: "k" })).toEqual({
      mode: "disabled",
      why: "healing.claude.enabled is false: rules only",
    });
  });

  test("session dispatch (dispatch.mode or healing.claude.mode) selects session, enabled or not", () => {
    const root = project();
    const c = cfg(
      root,
      "healing:\n  claude: { mode: subprocess, enabled: false }\ndispatch: { mode: session }\n",
    );
    expect(resolveAgentMode(c, root, { PATH: binDir("claude") })).toEqual({
      mode: "session",
      why: "dispatch.mode is session: incidents wait for a Claude Code session (autosentry probe, session apply)",
    });
    expect(resolveAgentMode(cfg(root, "healing:\n  claude: { mode: session }\n"), root, {}).why).toStartWith(
      "healing.claude.mode is session",
    );
  });

  test("explicit modes are taken as configured; langgraph is api", () => {
    const root = project();
    const env = { PATH: project() };
    expect(resolveAgentMode(cfg(root, "healing:\n  claude: { mode: interactive }\n"), root, env).mode).toBe(
      "interactive",
    );
    const sub = resolveAgentMode(cfg(root, "healing:\n  claude: { mode: subprocess }\n"), root, env);
    expect(sub.mode).toBe("subprocess");
    expect(sub.why).toContain("claude is not on PATH");
    expect(resolveAgentMode(cfg(root, "healing:\n  claude: { mode: api }\n"), root, env).why).toContain(
      "ANTHROPIC_API_KEY is not set",
    );
    expect(resolveAgentMode(cfg(root, "healing:\n  claude: { mode: langgraph }\n"), root, env).mode).toBe(
      "api",
    );
  });

  test("healing.langgraph.enabled selects api in auto (after an installed skill)", () => {
    const root = project();
    const c = cfg(root, "healing:\n  langgraph: { enabled: true }\n");
    expect(resolveAgentMode(c, root, { PATH: binDir("claude") }).mode).toBe("api");
    const withSkill = project({ ".codex/prompts/autosentry.md": "x" });
    expect(
      resolveAgentMode(cfg(withSkill, "healing:\n  langgraph: { enabled: true }\n"), withSkill, {}).mode,
    ).toBe("interactive");
  });
});
