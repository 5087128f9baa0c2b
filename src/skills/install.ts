/**
 * @module
 * Installing autosentry's skills into the places coding agents read (see catalog.ts), and reading
 * back what is installed. Nothing the user wrote is overwritten: a file of our own is created; a
 * file that already has our block gets the block replaced; a shared file gets our block appended;
 * a command file the user wrote under our name is left alone unless `force` (then our block is
 * appended to it). Running it twice changes nothing: every write happens only when the bytes differ.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isSeq, parseDocument } from "yaml";
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { block, findBlock, hasBlock, upsertBlock } from "./blocks.ts";
import { type Destination, destinations, type Places, type Scope, TOOLS, type Tool } from "./catalog.ts";
import { SKILL_BODIES, SKILL_NAMES, type SkillName } from "./texts.ts";

export type InstallResult =
  | "created"
  | "updated"
  | "unchanged"
  | "merged"
  | "skipped_exists"
  | "skipped_unreadable"
  | "skipped_no_global";

export interface InstallRow {
  tool: Tool;
  skill: SkillName;
  file: string | null;
  result: InstallResult;
  /** Why it was skipped, when it was. */
  note?: string;
}

/** Whether a destination holds our current text. */
export type InstalledState = "installed" | "outdated" | "absent" | "foreign" | "unreadable";

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let mode: number | undefined;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {}
  writeFileAtomicSync(file, text, mode);
}

/** The text of our block for a destination. */
function blockBody(d: Destination): string {
  const body = SKILL_BODIES[d.skill];
  if (d.what.kind === "command" && d.what.format === "toml") {
    // A TOML literal multi-line string takes the Markdown as it is (no escapes).
    return `description = ${JSON.stringify(d.what.description)}\nprompt = '''\n${body.replace(/\n*$/, "\n")}'''`;
  }
  return body;
}

function styleOf(d: Destination): "html" | "hash" {
  return d.what.kind === "command" && d.what.format === "toml" ? "hash" : "html";
}

/** The whole file we would create for `d` when it does not exist. */
function freshText(d: Destination): string {
  const b = block(blockBody(d), styleOf(d));
  if (d.what.kind === "command" && d.what.format === "markdown") return `${d.what.frontmatter}\n${b}`;
  return b;
}

/** The new text for `current` (null: missing), or a skip. */
function plan(
  d: Destination,
  current: string | null,
  force: boolean,
): { text: string; result: InstallResult } | { skip: InstallResult; note: string } {
  if (d.what.kind === "aider") return planAider(d.what.readPath, current);
  const style = styleOf(d);
  if (current === null) return { text: freshText(d), result: "created" };
  if (hasBlock(current, style)) {
    const text = upsertBlock(current, blockBody(d), style);
    return { text, result: text === current ? "unchanged" : "updated" };
  }
  if (d.what.kind === "rules" || force) {
    return { text: upsertBlock(current, blockBody(d), style), result: "merged" };
  }
  return { skip: "skipped_exists", note: "exists and is not autosentry's (--force adds our block to it)" };
}

/** `.aider.conf.yml` with `readPath` in its `read:` list; comments and other keys kept. */
function planAider(
  readPath: string,
  current: string | null,
): { text: string; result: InstallResult } | { skip: InstallResult; note: string } {
  const doc = parseDocument(current ?? "");
  if (doc.errors.length > 0)
    return { skip: "skipped_unreadable", note: `not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}` };
  if (doc.contents === null) (doc as { contents: unknown }).contents = doc.createNode({});
  const read = doc.get("read", true);
  let list: string[];
  if (read === undefined || read === null) list = [];
  else if (isSeq(read)) list = (doc.toJS().read as unknown[]).map(String);
  else list = [String(doc.toJS().read)];
  if (list.includes(readPath)) return { text: current ?? "", result: "unchanged" };
  if (isSeq(read)) read.add(doc.createNode(readPath));
  else doc.set("read", doc.createNode([...list, readPath]));
  const text = doc.toString({ lineWidth: 0 });
  return { text, result: current === null ? "created" : "merged" };
}

export interface InstallOptions {
  tools: readonly Tool[];
  skills: readonly SkillName[];
  scope: Scope;
  force: boolean;
}

/** Install; returns one row per destination (and per tool/skill without a slot). */
export function installSkills(opts: InstallOptions, places: Places): InstallRow[] {
  const rows: InstallRow[] = [];
  for (const tool of opts.tools) {
    for (const skill of opts.skills) {
      const dests = destinations(tool, skill, opts.scope, places);
      if (dests.length === 0) {
        // Only the playbook goes into a tool without commands; say so once, for it.
        if (skill === "autosentry" && opts.scope === "global")
          rows.push({
            tool,
            skill,
            file: null,
            result: "skipped_no_global",
            note: "this tool has no global place",
          });
        continue;
      }
      for (const d of dests) {
        let current: string | null;
        try {
          current = readText(d.file);
        } catch (err) {
          rows.push({
            tool,
            skill,
            file: d.file,
            result: "skipped_unreadable",
            note: (err as Error).message,
          });
          continue;
        }
        const p = plan(d, current, opts.force);
        if ("skip" in p) {
          rows.push({ tool, skill, file: d.file, result: p.skip, note: p.note });
          continue;
        }
        if (p.text !== current) write(d.file, p.text);
        rows.push({ tool, skill, file: d.file, result: p.text === current ? "unchanged" : p.result });
      }
    }
  }
  return rows;
}

/** What is installed at one destination. */
export function installedState(d: Destination): InstalledState {
  let current: string | null;
  try {
    current = readText(d.file);
  } catch {
    return "unreadable";
  }
  if (current === null) return "absent";
  const p = plan(d, current, false);
  if ("skip" in p) return p.skip === "skipped_unreadable" ? "unreadable" : "foreign";
  if (d.what.kind === "aider") return p.result === "unchanged" ? "installed" : "foreign";
  const style = styleOf(d);
  if (!findBlock(current, style)) return "foreign";
  return p.text === current ? "installed" : "outdated";
}

/** Every destination of every tool and skill in one scope. */
export function allDestinations(scope: Scope, places: Places): Destination[] {
  return TOOLS.flatMap((t) => SKILL_NAMES.flatMap((s) => destinations(t, s, scope, places)));
}
