/**
 * @module
 * User regexes, written in the Python tool's dialect, compiled to JavaScript RegExps.
 *
 * Accepted Python spellings: named groups `(?P<name>…)` and back-references `(?P=name)`,
 * `\A` and `\Z` anchors, and global inline flags at the very start (`(?i)`, `(?s)`, `(?m)`, or a
 * combination such as `(?im)`). Verbose mode `(?x)` has no JavaScript equivalent and is refused.
 */

export class RegexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegexError";
  }
}

/** Translate a Python-dialect pattern to a JavaScript source and flag string. */
export function translateRegex(source: string): { source: string; flags: string } {
  let src = source;
  let flags = "";
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    const letters = inline[1]!;
    if (letters.includes("x")) throw new RegexError("verbose mode (?x) is not supported");
    for (const f of letters) {
      if ((f === "i" || f === "m" || f === "s") && !flags.includes(f)) flags += f;
    }
    src = src.slice(inline[0].length);
  }
  src = src
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, "(?<$1>")
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, "\\k<$1>")
    .replace(/(^|[^\\])\\A/g, "$1^")
    .replace(/(^|[^\\])\\Z/g, "$1$");
  return { source: src, flags };
}

/** Compile a user regex; the error says what is wrong with it. */
export function compileRegex(source: string, extraFlags = ""): RegExp {
  const t = translateRegex(source);
  let flags = t.flags;
  for (const f of extraFlags) if (!flags.includes(f)) flags += f;
  try {
    return new RegExp(t.source, flags);
  } catch (err) {
    const msg = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, "") : String(err);
    throw new RegexError(`invalid regular expression: ${msg}`);
  }
}
