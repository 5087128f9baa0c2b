/**
 * @module
 * Which agent heals an incident that no rule answers (`healing.claude.*`, `dispatch.mode`), decided
 * once when the monitor is built and reported by `doctor`.
 *
 * - `dispatch.mode: session` or `healing.claude.mode: session` → session: autosentry does not heal
 *   (rules included); a Claude Code session does, through `autosentry probe` and `session apply`.
 * - `healing.claude.enabled: false` → disabled (rules only).
 * - `mode: subprocess | interactive | api` as configured (`langgraph` is accepted as api).
 * - `mode: auto`, in this order:
 *   1. interactive, only when an autosentry skill is really installed in the project (one of
 *      {@link SKILL_MARKERS}). A bare AGENTS.md does not count: the Python tool took any AGENTS.md as
 *      a sign of a responder and then every escalation waited ten minutes for nobody (inventory §6
 *      item 7).
 *   2. api when `healing.langgraph.enabled` (the Python tool's headless healer) is set;
 *   3. subprocess when the CLI (`healing.claude.command[0]`) is on PATH;
 *   4. api when the API key variable (`healing.claude.api.api_key_env`) is set;
 *   5. otherwise disabled, with the reason.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConfigData } from "../../config/schema.ts";
import { apiSettings } from "./api-settings.ts";
import { findClaudeCli } from "./claude-cli.ts";

export type AgentModeName = "subprocess" | "interactive" | "session" | "api" | "disabled";

export interface ResolvedAgentMode {
  mode: AgentModeName;
  /** Why this mode, in words for `doctor` and the log. */
  why: string;
}

/**
 * Files (relative to the project root) that `autosentry skills install` writes for the
 * `/autosentry` command of each agent tool. Their presence means someone set up a responder.
 */
export const SKILL_MARKERS: readonly string[] = [
  ".claude/commands/autosentry.md",
  ".claude/skills/autosentry/SKILL.md",
  ".opencode/command/autosentry.md",
  ".codex/prompts/autosentry.md",
  ".gemini/commands/autosentry.toml",
  ".cursor/commands/autosentry.md",
  ".pi/prompts/autosentry.md",
];

/** The first skill marker that exists as a regular file under `root`, or null. */
export function findSkillMarker(root: string): string | null {
  for (const rel of SKILL_MARKERS) {
    try {
      if (fs.statSync(path.join(root, rel)).isFile()) return rel;
    } catch {}
  }
  return null;
}

/** Decide the agent mode for `config` in project `root` (see the module comment). */
export function resolveAgentMode(
  config: ConfigData,
  root: string,
  env: Record<string, string | undefined> = process.env,
): ResolvedAgentMode {
  const c = config.healing.claude;
  if (config.dispatch.mode === "session" || c.mode === "session") {
    const which = config.dispatch.mode === "session" ? "dispatch.mode" : "healing.claude.mode";
    return {
      mode: "session",
      why: `${which} is session: incidents wait for a Claude Code session (autosentry probe, session apply)`,
    };
  }
  if (c.enabled === false) {
    return { mode: "disabled", why: "healing.claude.enabled is false: rules only" };
  }
  const exe = c.command[0] ?? "claude";
  const api = apiSettings(config.healing);
  const keyEnv = api.keyEnv;
  const hasKey = (env[keyEnv] ?? "") !== "";
  const keyNote = hasKey || !api.keyRequired ? "" : ` (but ${keyEnv} is not set)`;
  switch (c.mode) {
    case "subprocess": {
      const cli = findClaudeCli(c.command, env);
      return {
        mode: "subprocess",
        why: cli
          ? `healing.claude.mode is subprocess (${cli})`
          : `healing.claude.mode is subprocess, but ${exe} is not on PATH: the first incident will switch healing to rules only`,
      };
    }
    case "interactive":
      return {
        mode: "interactive",
        why: "healing.claude.mode is interactive: requests wait for `autosentry healer respond`",
      };
    case "api":
    case "langgraph":
      return {
        mode: "api",
        why: `healing.claude.mode is ${c.mode}: the ${api.label} at ${api.baseUrl}${keyNote}`,
      };
    default:
      break;
  }
  const marker = findSkillMarker(root);
  if (marker) {
    return {
      mode: "interactive",
      why: `auto: the autosentry skill is installed (${marker}); requests wait for \`autosentry healer respond\``,
    };
  }
  if (config.healing.langgraph.enabled) {
    return {
      mode: "api",
      why: `auto: healing.langgraph.enabled selects the ${api.label} at ${api.baseUrl}${keyNote}`,
    };
  }
  const cli = findClaudeCli(c.command, env);
  if (cli) return { mode: "subprocess", why: `auto: the Claude Code CLI is installed (${cli})` };
  if (hasKey) {
    return { mode: "api", why: `auto: no ${exe} on PATH, but ${keyEnv} is set: the Messages API` };
  }
  return {
    mode: "disabled",
    why: `auto: no autosentry skill installed, no ${exe} on PATH and no ${keyEnv} set: rules only`,
  };
}
