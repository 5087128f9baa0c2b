/**
 * @module
 * Marker-delimited blocks: autosentry's part of a file someone else may also write to (AGENTS.md,
 * .windsurfrules, a command file the user edited). Only the text between the markers is ever
 * replaced; everything outside them is the user's and is kept byte for byte.
 */

/** How a comment is written in the file's language. */
export type CommentStyle = "html" | "hash";

const BEGIN = "autosentry:begin";
const END = "autosentry:end";

/** The marker lines for `style`. */
export function markers(style: CommentStyle): { begin: string; end: string } {
  const note = "(managed by `autosentry skills install`; edits inside are replaced)";
  return style === "html"
    ? { begin: `<!-- ${BEGIN} ${note} -->`, end: `<!-- ${END} -->` }
    : { begin: `# ${BEGIN} ${note}`, end: `# ${END}` };
}

/** `body` wrapped in markers, ending with a newline. */
export function block(body: string, style: CommentStyle): string {
  const m = markers(style);
  return `${m.begin}\n${body.replace(/\n*$/, "\n")}${m.end}\n`;
}

/** Where our block is in `text` (begin of the begin line to after the end line), or null. */
export function findBlock(text: string, style: CommentStyle): { start: number; end: number } | null {
  const m = markers(style);
  const beginRe = style === "html" ? /^<!-- autosentry:begin\b.*$/m : /^# autosentry:begin\b.*$/m;
  const b = beginRe.exec(text);
  if (!b) return null;
  const endAt = text.indexOf(m.end, b.index);
  if (endAt < 0) return null;
  let end = endAt + m.end.length;
  if (text[end] === "\n") end++;
  return { start: b.index, end };
}

/** True when `text` has our block. */
export function hasBlock(text: string, style: CommentStyle): boolean {
  return findBlock(text, style) !== null;
}

/**
 * `text` with our block set to `body`: replaced in place when present, else appended after a
 * blank line (or the whole text when `text` is empty).
 */
export function upsertBlock(text: string, body: string, style: CommentStyle): string {
  const b = block(body, style);
  const at = findBlock(text, style);
  if (at) return text.slice(0, at.start) + b + text.slice(at.end);
  if (text.trim() === "") return b;
  return `${text.replace(/\n*$/, "\n")}\n${b}`;
}

/** `text` without our block (and the blank line before it that upsert added). */
export function removeBlock(text: string, style: CommentStyle): string {
  const at = findBlock(text, style);
  if (!at) return text;
  let start = at.start;
  if (text.slice(0, start).endsWith("\n\n")) start--;
  return text.slice(0, start) + text.slice(at.end);
}
