/**
 * @module
 * Hides the values of secret-looking keys in one line of text, whatever the syntax:
 * `KEY=value` (env, .env, shell `export`, query strings, log fields, `--flag=value`), YAML
 * `key: value`, JSON `"key": "value"`, Python dict reprs `'key': 'value'` and HTTP headers
 * (`Authorization: Bearer …` keeps its scheme). The key stays visible so a reader knows what was
 * hidden.
 *
 * The scanner is linear: it visits each `=`/`:` once, reads the key backwards (at most 128
 * characters) and, for a secret key, the value forwards, then resumes after the value. No regex
 * with nested quantifiers runs over the line.
 */
import { isSecretKey, isSignatureKey } from "./secret-key.ts";
import { isHarmless, type KeepFn, looksLikeCode, looksLikeSecret, REDACTED } from "./values.ts";

const MAX_KEY = 128;
const KEY_CHAR = /[A-Za-z0-9_.-]/;
/** Characters before a key that make it part of a structure (`{a: 1, token: x}`), not prose. */
const STRUCTURAL = new Set(["{", ",", "[", "(", ";", "&", "?", "|"]);
/** Characters that end an unquoted value in the middle of a line. */
const INLINE_END = new Set([",", ";", "&", '"', "'", "<", ">", ")", "]", "}", "`"]);
/** What may precede a key that starts the line: indentation, `export`, `set`, a YAML `- `, a `#`. */
const LINE_START_PREFIX = /^\s*(?:#\s*)?(?:export\s+|set\s+|-\s+)?$/;
const BLOCK_SCALAR = /^[|>][-+0-9]*$/;
const AUTH_SCHEME = /^([A-Za-z][A-Za-z0-9-]*)[ \t]+(?=\S)/;

interface Key {
  name: string;
  start: number;
  quoted: boolean;
}

/** Result of scanning one line. `blockIndent` is set when a secret YAML block scalar starts here. */
export interface KeyValueResult {
  line: string;
  blockIndent: number | null;
}

function isWs(ch: string | undefined): boolean {
  return ch === " " || ch === "\t";
}

function countWs(line: string, from: number): number {
  let n = 0;
  while (isWs(line[from + n])) n++;
  return n;
}

function readKeyBackward(line: string, sep: number): Key | null {
  let j = sep - 1;
  while (j >= 0 && isWs(line[j])) j--;
  if (j < 0) return null;
  const q = line[j];
  if (q === '"' || q === "'") {
    let open = j - 1;
    while (open >= 0 && j - open <= MAX_KEY + 1 && line[open] !== q) open--;
    if (open < 0 || line[open] !== q || open === j - 1) return null;
    return { name: line.slice(open + 1, j), start: open, quoted: true };
  }
  let k = j;
  while (k >= 0 && j - k < MAX_KEY && KEY_CHAR.test(line[k]!)) k--;
  if (k === j || (k >= 0 && KEY_CHAR.test(line[k]!))) return null;
  return { name: line.slice(k + 1, j + 1), start: k + 1, quoted: false };
}

/** Index of the closing quote (honouring backslash escapes), or -1. */
function closingQuote(line: string, from: number, q: string): number {
  for (let i = from; i < line.length; i++) {
    const ch = line[i];
    if (ch === "\\") i++;
    else if (ch === q) return i;
  }
  return -1;
}

/** End of a rest-of-line value: before a ` #` comment, trailing blanks, `;` or `,`. */
function restOfLineEnd(line: string, from: number): number {
  let end = line.length;
  for (let i = from; i < line.length; i++) {
    if (line[i] === "#" && isWs(line[i - 1])) {
      end = i;
      break;
    }
  }
  while (end > from && /[\s;,]/.test(line[end - 1]!)) end--;
  return end;
}

function inlineEnd(line: string, from: number): number {
  let i = from;
  while (i < line.length && !isWs(line[i]) && line[i] !== "\r" && !INLINE_END.has(line[i]!)) i++;
  return i;
}

function isOperator(line: string, sep: number): boolean {
  const prev = line[sep - 1];
  const next = line[sep + 1];
  if (line[sep] === "=") {
    return (
      next === "=" || next === ">" || next === "~" || (prev !== undefined && "=!<>+-*/%|&^:".includes(prev))
    );
  }
  return next === ":" || next === "=" || prev === ":" || line.startsWith("//", sep + 1);
}

/** Redact secret-keyed values in `line`. */
export function redactKeyValues(line: string, keep: KeepFn): KeyValueResult {
  let out = "";
  let last = 0;
  let blockIndent: number | null = null;
  let i = 0;
  while (i < line.length) {
    let sep = -1;
    for (let s = i; s < line.length; s++) {
      const ch = line[s];
      if (ch === "=" || ch === ":") {
        sep = s;
        break;
      }
    }
    if (sep < 0) break;
    i = sep + 1;
    if (isOperator(line, sep)) continue;
    const key = readKeyBackward(line, sep);
    if (key === null || !isSecretKey(key.name)) continue;

    const before = line.slice(0, key.start);
    const lineStart = key.start <= 64 && LINE_START_PREFIX.test(before);
    let b = key.start - 1;
    while (b >= 0 && isWs(line[b])) b--;
    const structured = key.quoted || lineStart || b < 0 || STRUCTURAL.has(line[b]!);
    const isAuth = /authorization$/i.test(key.name);

    let p = sep + 1;
    while (isWs(line[p])) p++;
    if (p >= line.length || line[p] === "\r") continue;
    let vs = p;
    let ve: number;
    let quoted = false;
    const q = line[p];
    if ((q === '"' || q === "'") && !key.quoted && line[key.start - 1] === q) {
      // The key sits inside a string literal that this quote closes: `"password=" + "value"`.
      // The value is the next literal of the concatenation (`+`, or `.` in PHP/Perl); anything
      // else (a variable, nothing) is code, not a secret.
      let k = p + 1;
      while (isWs(line[k])) k++;
      const q2 = line[k] === "+" || line[k] === "." ? line[k + 1 + countWs(line, k + 1)] : undefined;
      if (q2 !== '"' && q2 !== "'") {
        i = p + 1;
        continue;
      }
      quoted = true;
      vs = k + 1 + countWs(line, k + 1) + 1;
      const close = closingQuote(line, vs, q2);
      ve = close < 0 ? restOfLineEnd(line, vs) : close;
    } else if (q === '"' || q === "'") {
      quoted = true;
      vs = p + 1;
      const close = closingQuote(line, vs, q);
      ve = close < 0 ? restOfLineEnd(line, vs) : close;
    } else if (lineStart) {
      ve = restOfLineEnd(line, p);
      if (BLOCK_SCALAR.test(line.slice(vs, ve))) {
        blockIndent = /^\s*/.exec(line)![0].length;
        i = ve;
        continue;
      }
    } else if (isAuth) {
      const scheme = AUTH_SCHEME.exec(line.slice(p, p + 64));
      ve = inlineEnd(line, scheme ? p + scheme[0].length : p);
    } else {
      ve = inlineEnd(line, p);
    }
    // A kept rest-of-line value is scanned again (it may be code holding `password="…"`); any
    // other value is skipped. At most one rest-of-line value per line keeps this linear.
    const restOfLine = lineStart && !quoted;
    i = Math.max(i, quoted ? ve + 1 : ve);
    if (isAuth) {
      const scheme = AUTH_SCHEME.exec(line.slice(vs, Math.min(ve, vs + 64)));
      if (scheme) vs += scheme[0].length;
    }
    const value = line.slice(vs, ve);
    const kept =
      line.startsWith(REDACTED, vs) ||
      isHarmless(value) ||
      keep(value) ||
      (!quoted && looksLikeCode(value, key.name)) ||
      (line[sep] === ":" && !structured && !isAuth && !looksLikeSecret(value)) ||
      (isSignatureKey(key.name) && !looksLikeSecret(value));
    if (kept) {
      if (restOfLine) i = vs;
      continue;
    }
    out += line.slice(last, vs) + REDACTED;
    last = ve;
  }
  return { line: last === 0 ? line : out + line.slice(last), blockIndent };
}

/** Inside a secret YAML block scalar: hide a line's content, keep its indentation. */
export function redactBlockLine(line: string): string {
  const indent = /^\s*/.exec(line)![0];
  return indent + REDACTED;
}
