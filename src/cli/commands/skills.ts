/**
 * @module
 * `autosentry skills install|list`: autosentry's instructions for coding agents (Claude Code,
 * Codex, Gemini CLI, Cursor, OpenCode, Aider, Continue, Windsurf, Zed, pi and AGENTS.md), in the
 * project (`--scope local`, default) or under the home directory (`--scope global`).
 *
 * Files are merged, never overwritten wholesale (src/skills/install.ts). For Claude Code in the
 * project, the Stop hook (`autosentry hooks install`) comes with the skill: it is what wakes the
 * session when an incident waits (silent unless `dispatch.mode: session`). A global install skips
 * the hook: a Stop hook in ~/.claude would fire in every project, most of which have no monitor.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { installStopHook, readStopHook } from "../../session/hooks.ts";
import { placesFrom, type Scope, TOOLS, type Tool } from "../../skills/catalog.ts";
import { allDestinations, type InstallRow, installedState, installSkills } from "../../skills/install.ts";
import { SKILL_NAMES, type SkillName } from "../../skills/texts.ts";
import { CliExit, EXIT } from "../exit.ts";
import { cliInvocation } from "./probe.ts";

export interface SkillsRequest {
  tools: readonly Tool[];
  skills: readonly SkillName[];
  scope: Scope;
  target: string;
  force: boolean;
}

/** Parse `--tool` values (repeatable, comma lists allowed, `all`); throws CliExit(2) on a bad one. */
export function parseTools(values: readonly string[] | undefined): Tool[] {
  const words = (values ?? ["all"]).flatMap((v) => v.split(",")).map((v) => v.trim().toLowerCase());
  if (words.includes("all") || words.length === 0) return [...TOOLS];
  const out: Tool[] = [];
  for (const w of words) {
    if (!(TOOLS as readonly string[]).includes(w))
      throw new CliExit(
        EXIT.usage,
        `autosentry skills: unknown tool "${w}" (one of ${TOOLS.join(", ")}, or all)`,
      );
    if (!out.includes(w as Tool)) out.push(w as Tool);
  }
  return out;
}

/** Parse `--skill`; throws CliExit(2) on a bad one. */
export function parseSkills(value: string | undefined): SkillName[] {
  const v = (value ?? "autosentry").toLowerCase();
  if (v === "all") return [...SKILL_NAMES];
  const name = v.startsWith("autosentry") ? v : v === "init" || v === "update" ? `autosentry-${v}` : v;
  if (!(SKILL_NAMES as readonly string[]).includes(name))
    throw new CliExit(
      EXIT.usage,
      `autosentry skills: unknown skill "${value}" (autosentry, init, update or all)`,
    );
  return [name as SkillName];
}

/** Install, the Stop hook included (local Claude Code); returns the rows to show. */
export function runSkillsInstall(
  req: SkillsRequest,
  env: Record<string, string | undefined> = process.env,
): InstallRow[] {
  if (req.scope === "local" && !isDir(req.target))
    throw new CliExit(EXIT.usage, `autosentry skills install: --target ${req.target}: no such directory`);
  const places = placesFrom(path.resolve(req.target), env, os.homedir());
  const rows = installSkills(req, places);
  if (req.scope === "local" && req.tools.includes("claude") && req.skills.includes("autosentry")) {
    const hook = installStopHook(places.target, `${cliInvocation(env)} probe --inject-prompt --quiet`);
    const result =
      hook.result === "installed"
        ? "created"
        : hook.result === "updated"
          ? "updated"
          : hook.result === "unchanged"
            ? "unchanged"
            : "skipped_unreadable";
    rows.push({
      tool: "claude",
      skill: "autosentry",
      file: hook.file,
      result,
      ...(result === "skipped_unreadable" ? { note: hook.message } : {}),
    });
  }
  return rows;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The result table. */
export function renderRows(rows: InstallRow[], cwd: string): string {
  const show = (f: string | null) => {
    if (f === null) return "-";
    const rel = path.relative(cwd, f);
    return rel && !rel.startsWith("..") ? rel : f;
  };
  const cells = rows.map((r) => [r.tool, r.skill, r.result, show(r.file) + (r.note ? `  (${r.note})` : "")]);
  const w = [0, 1, 2].map((i) => Math.max(...cells.map((c) => c[i]!.length), 4));
  return `${cells.map((c) => `${c[0]!.padEnd(w[0]!)}  ${c[1]!.padEnd(w[1]!)}  ${c[2]!.padEnd(w[2]!)}  ${c[3]}`).join("\n")}\n`;
}

/** `skills install`'s options. */
interface SkillsInstallOptions {
  tool?: string[] | undefined;
  skill: string;
  scope: Scope;
  target: string;
  force?: boolean | undefined;
  json?: boolean | undefined;
}

/** What `autosentry skills install` does (its options are declared in src/cli/tree/skills.ts). */
export function skillsInstallCommand(opts: SkillsInstallOptions): void {
  const req: SkillsRequest = {
    tools: parseTools(opts.tool),
    skills: parseSkills(opts.skill),
    scope: opts.scope,
    target: opts.target,
    force: opts.force === true,
  };
  const rows = runSkillsInstall(req);
  if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else process.stdout.write(renderRows(rows, process.cwd()));
  if (rows.some((r) => r.result === "skipped_unreadable")) process.exitCode = EXIT.failure;
}

/** What `autosentry skills list` does (its options are declared in src/cli/tree/skills.ts). */
export function skillsListCommand(opts: { target: string; json?: boolean | undefined }): void {
  const places = placesFrom(path.resolve(opts.target), process.env, os.homedir());
  const items = (["local", "global"] as const).flatMap((scope) =>
    allDestinations(scope, places).map((d) => ({
      tool: d.tool,
      skill: d.skill,
      scope,
      file: d.file,
      state: installedState(d),
    })),
  );
  const hook = readStopHook(places.target);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ files: items, stop_hook: hook }, null, 2)}\n`);
    return;
  }
  const w = Math.max(...items.map((i) => `${i.tool} ${i.skill}`.length));
  const lines = items.map(
    (i) => `${`${i.tool} ${i.skill}`.padEnd(w)}  ${i.scope.padEnd(6)}  ${i.state.padEnd(9)}  ${i.file}`,
  );
  lines.push(
    "",
    `Claude Code Stop hook: ${hook.error ? `unreadable (${hook.error})` : hook.command ? `installed (${hook.command})` : "not installed"}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}
