/**
 * @module
 * Where each coding agent looks for autosentry's instructions, per skill and scope.
 *
 * Every destination is one of a few kinds of file:
 * - `command`: a file of its own (a slash command, a prompt, a Claude Code skill); the text lives
 *   in a marker block after the tool's frontmatter, so edits the user makes to the frontmatter or
 *   around the block survive a reinstall;
 * - `rules`: a file the user shares with others (AGENTS.md, .windsurfrules): only our block in it;
 * - `aider`: `.aider.conf.yml`, where only the `read:` list is touched (yaml Document API).
 *
 * Global destinations sit under `home` (and `$XDG_CONFIG_HOME`, default `home/.config`). The
 * global `/autosentry` texts are self-contained, never links to a project's AGENTS.md (the Python
 * tool's global wrappers pointed at `../../AGENTS.md`, which does not exist there: inventory §6 36).
 */
import * as path from "node:path";
import { SKILL_DESCRIPTIONS, type SkillName } from "./texts.ts";

export const TOOLS = [
  "claude",
  "codex",
  "gemini",
  "cursor",
  "opencode",
  "aider",
  "continue",
  "windsurf",
  "zed",
  "pi",
  "agents",
] as const;
export type Tool = (typeof TOOLS)[number];

export type Scope = "local" | "global";

export type FileKind =
  | { kind: "command"; format: "markdown"; frontmatter: string }
  | { kind: "command"; format: "toml"; description: string }
  | { kind: "rules" }
  | { kind: "aider"; readPath: string };

export interface Destination {
  tool: Tool;
  skill: SkillName;
  /** Absolute path of the file. */
  file: string;
  what: FileKind;
}

export interface Places {
  /** The project directory (local scope). */
  target: string;
  /** The home directory (global scope). */
  home: string;
  /** `$XDG_CONFIG_HOME`, default `home/.config`. */
  xdgConfig: string;
}

/** Places from the environment (HOME and XDG_CONFIG_HOME may be overridden, as tests do). */
export function placesFrom(target: string, env: Record<string, string | undefined>, homedir: string): Places {
  const home = env.HOME && env.HOME !== "" ? env.HOME : homedir;
  const xdgConfig =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : path.join(home, ".config");
  return { target, home, xdgConfig };
}

function mdFrontmatter(fields: Record<string, string>): string {
  const lines = Object.entries(fields).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return `---\n${lines.join("\n")}\n---\n`;
}

const ARG_HINT: Record<SkillName, string> = {
  autosentry: "[what to look at]",
  "autosentry-init": "[the command to supervise]",
  "autosentry-update": "",
};

/** The files one tool gets for one skill in one scope; [] when the tool has no slot for it. */
export function destinations(tool: Tool, skill: SkillName, scope: Scope, p: Places): Destination[] {
  const local = scope === "local";
  const base = local ? p.target : p.home;
  const desc = SKILL_DESCRIPTIONS[skill];
  const md = (file: string, fields: Record<string, string> = { description: desc }): Destination => ({
    tool,
    skill,
    file,
    what: { kind: "command", format: "markdown", frontmatter: mdFrontmatter(fields) },
  });
  switch (tool) {
    case "claude": {
      const out = [
        md(path.join(base, ".claude", "commands", `${skill}.md`), {
          description: desc,
          ...(ARG_HINT[skill] ? { "argument-hint": ARG_HINT[skill] } : {}),
          "allowed-tools": "Bash, Read, Edit, Write",
        }),
      ];
      if (skill === "autosentry") {
        // A Claude Code skill proper, which the model can pick up on its own when relevant.
        out.push(
          md(path.join(base, ".claude", "skills", "autosentry", "SKILL.md"), {
            name: "autosentry",
            description: `${desc}. Use when the project has .autosentry/ or a run is supervised by autosentry.`,
          }),
        );
      }
      return out;
    }
    case "opencode":
      return [
        md(
          path.join(
            local ? path.join(p.target, ".opencode") : path.join(p.xdgConfig, "opencode"),
            "command",
            `${skill}.md`,
          ),
        ),
      ];
    case "codex":
      return [md(path.join(base, ".codex", "prompts", `${skill}.md`))];
    case "cursor":
      return [md(path.join(base, ".cursor", "commands", `${skill}.md`))];
    case "pi":
      return [md(path.join(base, ".pi", local ? "" : "agent", "prompts", `${skill}.md`))];
    case "zed":
      return [
        md(
          path.join(
            local ? path.join(p.target, ".zed") : path.join(p.xdgConfig, "zed"),
            "prompts",
            `${skill}.md`,
          ),
        ),
      ];
    case "gemini":
      return [
        {
          tool,
          skill,
          file: path.join(base, ".gemini", "commands", `${skill}.toml`),
          what: { kind: "command", format: "toml", description: desc },
        },
      ];
    case "continue":
      return [
        md(path.join(base, ".continue", "prompts", `${skill}.prompt`), { name: skill, description: desc }),
      ];
    case "windsurf":
      if (skill !== "autosentry") return [];
      return [
        {
          tool,
          skill,
          file: local
            ? path.join(p.target, ".windsurfrules")
            : path.join(p.home, ".codeium", "windsurf", "memories", "global_rules.md"),
          what: { kind: "rules" },
        },
      ];
    case "agents":
      if (skill !== "autosentry" || !local) return [];
      return [{ tool, skill, file: path.join(p.target, "AGENTS.md"), what: { kind: "rules" } }];
    case "aider": {
      if (skill !== "autosentry") return [];
      // Aider reads files named in `read:` as context: the project's AGENTS.md, or (global) a
      // copy of the playbook that autosentry keeps under XDG_CONFIG_HOME.
      const notes = local
        ? path.join(p.target, "AGENTS.md")
        : path.join(p.xdgConfig, "autosentry", "AGENTS.md");
      return [
        { tool, skill, file: notes, what: { kind: "rules" } },
        {
          tool,
          skill,
          file: path.join(base, ".aider.conf.yml"),
          what: { kind: "aider", readPath: local ? "AGENTS.md" : notes },
        },
      ];
    }
  }
}
