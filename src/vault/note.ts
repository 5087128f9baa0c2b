/**
 * @module
 * Obsidian-compatible notes as text: YAML frontmatter (one `key: <JSON value>` line per key, which
 * is valid YAML), a title, free lines, and `## ` sections. The vault edits notes in place with
 * {@link appendToSection} and {@link setFront} so that anything a person added to a note (or a
 * narrative) survives later updates. Pure functions; no I/O.
 */

/** What an empty section holds until its first bullet arrives. */
export const NONE_YET = "*(none yet)*";

export type FrontValue = string | number | boolean | null | string[];

export interface NoteSpec {
  /** `id`, `kind`, `created`, `updated` and `tags` first, then the rest sorted by key. */
  front: Record<string, FrontValue>;
  title: string;
  /** Lines between the title and the first section. */
  body: string[];
  /** Sections in order; empty ones get {@link NONE_YET}. */
  sections: { heading: string; lines: string[] }[];
}

const FIRST_KEYS = ["id", "kind", "created", "updated", "tags"];

function frontLines(front: Record<string, FrontValue>): string[] {
  const keys = [
    ...FIRST_KEYS.filter((k) => k in front),
    ...Object.keys(front)
      .filter((k) => !FIRST_KEYS.includes(k))
      .sort(),
  ];
  return keys.map((k) => `${k}: ${JSON.stringify(front[k])}`);
}

/** The text of a new note. */
export function renderNote(spec: NoteSpec): string {
  const out = ["---", ...frontLines(spec.front), "---", "", `# ${spec.title}`, ""];
  if (spec.body.length > 0) out.push(...spec.body, "");
  for (const s of spec.sections)
    out.push(`## ${s.heading}`, "", ...(s.lines.length > 0 ? s.lines : [NONE_YET]), "");
  return out.join("\n");
}

/** The frontmatter block's line range: [index of the opening `---`, index of the closing one]. */
function frontRange(lines: string[]): [number, number] | null {
  if (lines[0] !== "---") return null;
  const end = lines.indexOf("---", 1);
  return end === -1 ? null : [0, end];
}

/** The frontmatter of `text` (values that are not JSON are kept as strings). */
export function parseFront(text: string): Record<string, FrontValue> {
  const lines = text.split("\n");
  const range = frontRange(lines);
  const out: Record<string, FrontValue> = {};
  if (range === null) return out;
  for (const line of lines.slice(1, range[1])) {
    const m = /^([A-Za-z0-9_]+):\s?(.*)$/.exec(line);
    if (!m) continue;
    try {
      out[m[1]!] = JSON.parse(m[2]!) as FrontValue;
    } catch {
      out[m[1]!] = m[2]!;
    }
  }
  return out;
}

/** Set frontmatter keys (null removes nothing: it is written as null); other keys keep their order. */
export function setFront(text: string, updates: Record<string, FrontValue>): string {
  const lines = text.split("\n");
  const range = frontRange(lines);
  if (range === null) return text;
  const front = parseFront(text);
  for (const [k, v] of Object.entries(updates)) front[k] = v;
  return [...lines.slice(0, range[0] + 1), ...frontLines(front), ...lines.slice(range[1])].join("\n");
}

/** [heading line index, end index (exclusive)] of section `heading`, or null. */
function sectionRange(lines: string[], heading: string): [number, number] | null {
  const start = lines.indexOf(`## ${heading}`);
  if (start === -1) return null;
  let end = start + 1;
  while (end < lines.length && !lines[end]!.startsWith("## ")) end++;
  return [start, end];
}

/**
 * Add `line` to section `heading`: it replaces the {@link NONE_YET} placeholder, or follows the
 * section's last non-blank line. With `dedupe`, a line already in the section is not added again.
 * A missing section is appended at the end of the note.
 */
export function appendToSection(text: string, heading: string, line: string, dedupe = true): string {
  const lines = text.split("\n");
  const range = sectionRange(lines, heading);
  if (range === null) {
    const trimmed = text.replace(/\n*$/, "");
    return `${trimmed}\n\n## ${heading}\n\n${line}\n`;
  }
  const [start, end] = range;
  const body = lines.slice(start + 1, end);
  if (dedupe && body.includes(line)) return text;
  const placeholder = body.indexOf(NONE_YET);
  if (placeholder !== -1) {
    lines[start + 1 + placeholder] = line;
    return lines.join("\n");
  }
  let last = end - 1;
  while (last > start && lines[last]!.trim() === "") last--;
  lines.splice(last + 1, 0, line);
  return lines.join("\n");
}

const FOLDED = /^- (\d+) earlier /;

/**
 * {@link appendToSection} for a list that grows with the run (incidents, child runs): it keeps the
 * newest `cap` items; older ones fold into one `- N earlier <what> not listed here …` line at the
 * top. Without a cap a note listing every crash of a long run is rewritten whole on each one: 3,000
 * crash cycles made run and detector notes of 400 KB, each re-read and rewritten per incident
 * (issue 16, crash-cycle memory). The journal and incidents/index.jsonl keep every one.
 */
export function appendToSectionCapped(
  text: string,
  heading: string,
  line: string,
  cap: number,
  what: string,
): string {
  const out = appendToSection(text, heading, line);
  const lines = out.split("\n");
  const range = sectionRange(lines, heading);
  if (range === null) return out;
  const [start, end] = range;
  const body = lines.slice(start + 1, end);
  let folded = 0;
  const items: string[] = [];
  for (const l of body) {
    const m = FOLDED.exec(l);
    if (m) folded += Number(m[1]);
    else if (l.startsWith("- ")) items.push(l);
  }
  if (items.length <= cap) return out;
  const drop = items.length - cap;
  const fold = `- ${folded + drop} earlier ${what} not listed here (the journal and incidents/index.jsonl keep every one)`;
  lines.splice(start + 1, end - start - 1, "", fold, ...items.slice(drop), "");
  return lines.join("\n");
}

/** Replace the body of section `heading` with `body` (appending the section when it is missing). */
export function replaceSection(text: string, heading: string, body: string[]): string {
  const lines = text.split("\n");
  const range = sectionRange(lines, heading);
  const content = body.length > 0 ? body : [NONE_YET];
  if (range === null) return `${text.replace(/\n*$/, "")}\n\n## ${heading}\n\n${content.join("\n")}\n`;
  const [start, end] = range;
  lines.splice(start + 1, end - start - 1, "", ...content, "");
  return lines.join("\n");
}

/** The lines of section `heading` (without the heading and blank edges); null when missing. */
export function sectionLines(text: string, heading: string): string[] | null {
  const lines = text.split("\n");
  const range = sectionRange(lines, heading);
  if (range === null) return null;
  const body = lines.slice(range[0] + 1, range[1]);
  while (body.length > 0 && body[0]!.trim() === "") body.shift();
  while (body.length > 0 && body[body.length - 1]!.trim() === "") body.pop();
  return body;
}

/** `[[target|alias]]`: an Obsidian link by path from the vault root, without `.md`. */
export function wikilink(target: string, alias?: string): string {
  const clean = (s: string) => s.replace(/[[\]|#^]/g, "-");
  return alias === undefined || alias === target ? `[[${target}]]` : `[[${target}|${clean(alias)}]]`;
}
