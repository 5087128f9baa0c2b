/**
 * @module
 * autosentry's Claude Code Stop hook in `<target>/.claude/settings.local.json` (the per-user,
 * not-committed project settings):
 * ```json
 * { "hooks": { "Stop": [ { "hooks": [ { "type": "command", "command": "autosentry probe --inject-prompt --quiet" } ] } ] } }
 * ```
 * - Install is idempotent: a hook whose command runs `probe --inject-prompt` is ours; an existing one
 *   is kept (or its command updated in place), never duplicated.
 * - Everything else in the file (other hooks, other Stop groups, permissions, unknown keys) is kept
 *   as it was, in its order.
 * - A file that is not valid JSON, or whose `hooks`/`Stop` has an unexpected shape, is left alone
 *   and reported: autosentry never rewrites a settings file it does not understand.
 * - Remove drops only our entries, then groups and keys that became empty. A file left holding
 *   only `{}` is deleted (and `.claude/` with it when empty): to Claude Code it says nothing, and
 *   install is what created it in the usual case (issue 14 item 21).
 * Writes are atomic and keep the file's permissions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomicSync } from "../util/atomic-write.ts";

/** The Stop-hook command, when `autosentry` is on the PATH of the session. */
export const DEFAULT_HOOK_COMMAND = "autosentry probe --inject-prompt --quiet";

export type HookResult = "installed" | "updated" | "unchanged" | "removed" | "absent" | "skipped";

export interface HookChange {
  result: HookResult;
  /** The settings file. */
  file: string;
  /** One sentence for the user. */
  message: string;
}

/** `<target>/.claude/settings.local.json` */
export function settingsFile(target: string): string {
  return path.join(target, ".claude", "settings.local.json");
}

/** True when a hook command is autosentry's Stop hook. */
export function isOurHookCommand(command: unknown): boolean {
  return typeof command === "string" && /\bprobe\s+(?:\S+\s+)*--inject-prompt\b/.test(command);
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

type Loaded = { ok: true; data: Json; existed: boolean; mode: number } | { ok: false; why: string };

function load(file: string): Loaded {
  let text: string;
  let mode = 0o644;
  try {
    text = fs.readFileSync(file, "utf8");
    mode = fs.statSync(file).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, data: {}, existed: false, mode };
    return { ok: false, why: `cannot read it: ${(err as Error).message}` };
  }
  if (text.trim() === "") return { ok: true, data: {}, existed: true, mode };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { ok: false, why: `it is not valid JSON (${(err as Error).message})` };
  }
  if (!isObj(v)) return { ok: false, why: "it is not a JSON object" };
  if (v.hooks !== undefined && !isObj(v.hooks)) return { ok: false, why: '"hooks" is not an object' };
  const stop = isObj(v.hooks) ? v.hooks.Stop : undefined;
  if (stop !== undefined && !Array.isArray(stop)) return { ok: false, why: '"hooks.Stop" is not a list' };
  return { ok: true, data: v, existed: true, mode };
}

function save(file: string, data: Json, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, `${JSON.stringify(data, null, 2)}\n`, mode);
}

/** Every (group, entry) of ours in a Stop list. */
function ours(stop: unknown[]): Array<{ group: Json; entry: Json }> {
  const found: Array<{ group: Json; entry: Json }> = [];
  for (const g of stop) {
    if (!isObj(g) || !Array.isArray(g.hooks)) continue;
    for (const e of g.hooks) if (isObj(e) && isOurHookCommand(e.command)) found.push({ group: g, entry: e });
  }
  return found;
}

/** The command of our installed Stop hook in `target`, or null; `error` when the file is unreadable. */
export function readStopHook(target: string): { command: string | null; error: string | null } {
  const l = load(settingsFile(target));
  if (!l.ok) return { command: null, error: l.why };
  const stop = isObj(l.data.hooks) ? l.data.hooks.Stop : undefined;
  const found = Array.isArray(stop) ? ours(stop) : [];
  return { command: found.length > 0 ? String(found[0]!.entry.command) : null, error: null };
}

/** Add (or update) the Stop hook in `target`'s settings.local.json. */
export function installStopHook(target: string, command: string = DEFAULT_HOOK_COMMAND): HookChange {
  const file = settingsFile(target);
  const l = load(file);
  if (!l.ok) return { result: "skipped", file, message: `left ${file} alone: ${l.why}` };
  const data = l.data;
  if (!isObj(data.hooks)) data.hooks = {};
  const hooks = data.hooks as Json;
  if (!Array.isArray(hooks.Stop)) hooks.Stop = [];
  const stop = hooks.Stop as unknown[];
  const found = ours(stop);
  if (found.length === 1 && found[0]!.entry.command === command) {
    return { result: "unchanged", file, message: `the Stop hook is already in ${file}` };
  }
  let result: HookResult;
  if (found.length === 0) {
    stop.push({ hooks: [{ type: "command", command }] });
    result = "installed";
  } else {
    // Keep the first of ours (its place and any settings on it), drop duplicates.
    const [first, ...dupes] = found;
    first!.entry.command = command;
    first!.entry.type = "command";
    for (const d of dupes) {
      d.group.hooks = (d.group.hooks as unknown[]).filter((e) => e !== d.entry);
    }
    hooks.Stop = stop.filter((g) => !isObj(g) || !Array.isArray(g.hooks) || g.hooks.length > 0);
    result = "updated";
  }
  save(file, data, l.mode);
  return {
    result,
    file,
    message:
      result === "installed" ? `installed the Stop hook in ${file}` : `updated the Stop hook in ${file}`,
  };
}

/** Remove our Stop hook from `target`'s settings.local.json; other hooks stay. */
export function removeStopHook(target: string): HookChange {
  const file = settingsFile(target);
  const l = load(file);
  if (!l.ok) return { result: "skipped", file, message: `left ${file} alone: ${l.why}` };
  if (!l.existed) return { result: "absent", file, message: `no ${file}: nothing to remove` };
  const data = l.data;
  const hooks = isObj(data.hooks) ? data.hooks : null;
  const stop = hooks && Array.isArray(hooks.Stop) ? hooks.Stop : null;
  const found = stop ? ours(stop) : [];
  if (!hooks || !stop || found.length === 0) {
    return { result: "absent", file, message: `the Stop hook is not in ${file}` };
  }
  const touched = new Set<Json>();
  for (const f of found) {
    f.group.hooks = (f.group.hooks as unknown[]).filter((e) => e !== f.entry);
    touched.add(f.group);
  }
  hooks.Stop = stop.filter((g) => !(isObj(g) && touched.has(g) && (g.hooks as unknown[]).length === 0));
  if ((hooks.Stop as unknown[]).length === 0) delete hooks.Stop;
  if (Object.keys(hooks).length === 0) delete data.hooks;
  if (Object.keys(data).length === 0) {
    fs.rmSync(file, { force: true });
    removeIfEmpty(path.dirname(file));
    return { result: "removed", file, message: `removed the Stop hook (and the now empty ${file})` };
  }
  save(file, data, l.mode);
  return { result: "removed", file, message: `removed the Stop hook from ${file}` };
}

function removeIfEmpty(dir: string): void {
  try {
    if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  } catch {
    // not there or not ours to judge: leave it
  }
}
