/**
 * @module
 * Small Markdown helpers for report.md and frame files. Everything that goes into a report comes
 * from a log or a config, so backticks inside it must never close the code span or fence around it.
 */

/** Length of the longest run of backticks in `text`. */
function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return longest;
}

/** `text` as an inline code span that survives backticks and newlines inside it. */
export function code(text: string): string {
  const flat = text.replace(/\r?\n|\r/g, " ");
  const ticks = "`".repeat(longestBacktickRun(flat) + 1);
  // A span that starts or ends with a backtick needs a space so the fence stays separate.
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

/** A fenced block whose fence is longer than any backtick run inside `text` (at least three). */
export function fenced(text: string, info = ""): string {
  const fence = "`".repeat(Math.max(3, longestBacktickRun(text) + 1));
  const body = text.endsWith("\n") ? text : `${text}\n`;
  return `${fence}${info}\n${body}${fence}`;
}

/** An argv as a person would type it: words with shell-special characters are single-quoted. */
export function shellJoin(argv: string[]): string {
  return argv
    .map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}

/** One line of text for a table cell or a bullet: newlines folded, cut to `max` characters with `…`. */
export function oneLine(text: string, max = Number.POSITIVE_INFINITY): string {
  const flat = text.replace(/\s*(?:\r?\n|\r)\s*/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, Math.max(0, max - 1))}…` : flat;
}
