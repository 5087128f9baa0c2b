/**
 * @module
 * Config errors: one {@link ConfigIssue} per problem, each pointing at a file, line and column, and
 * a {@link ConfigError} that carries all of them with a message of one line per issue:
 *
 * ```
 * .autosentry/autosentry.yaml:12:5: rules[0].action.kind: expected one of restart, … (got "restrat")
 * ```
 */

/** One problem in a config file. `line` and `col` are 1-based; 0 when the problem has no position. */
export interface ConfigIssue {
  /** The file as the user named it (or relative to the cwd); empty when there is no file. */
  file: string;
  line: number;
  col: number;
  /** The key path (`rules[0].action.kind`); empty for problems of the file as a whole. */
  path: string;
  message: string;
}

/** A config that cannot be used. `.message` is the formatted text, one line per issue. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** `file:line:col: path: message`, leaving out the parts an issue does not have. */
export function formatIssue(issue: ConfigIssue): string {
  let where = "";
  if (issue.file) where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}: ` : `${issue.file}: `;
  const path = issue.path ? `${issue.path}: ` : "";
  return `${where}${path}${issue.message}`;
}

/** A key path as written in messages: `rules[0].action.kind`, `process.env["A.B"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const s = String(seg);
      if (/^[A-Za-z0-9_-]+$/.test(s)) out += out ? `.${s}` : s;
      else out += `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

/** Edit distance (insertions, deletions, substitutions). */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidate closest to `word`, when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : levenshtein(word, c);
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  // A guess that changes at least as many letters as the word has is no guess ("b" → "web").
  return best !== undefined && bestDist <= limit && bestDist < word.length ? best : undefined;
}

/** A short rendering of a YAML value for "(got …)" in messages. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return String(v);
}
