/**
 * @module
 * Required literals of a regex: for each top-level alternative, a plain string that every match of
 * that alternative contains. An alternation of these literals is a cheap pre-test (a superset: a
 * line that contains none of them cannot match) for regexes too costly to run on every line, such
 * as the signature pack's thirty-odd patterns with their lookaheads, anchors and `.*`.
 *
 * The reading is conservative: only characters at group depth 0 that no quantifier makes optional
 * or repeatable are taken; groups, classes, `.`, anchors and escapes such as `\d` or `\b` end a run
 * of literals. An alternative where no run of at least {@link MIN_LITERAL} characters is found, or
 * whose syntax is not understood here (`\x41`, `\u{…}`, back-references, `\p{…}`), is kept as
 * its whole regex source: the pre-test stays exact for it, only slower.
 */

/** Shorter literals match too many healthy lines to be a useful pre-test. */
export const MIN_LITERAL = 4;

/** The top-level alternatives of a regex source (`a|b(c|d)` → `a`, `b(c|d)`). */
export function topLevelAlternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

/** Escapes whose next character is the literal itself (`\(`, `\.`, `\/` …). */
const ESCAPED_LITERAL = /[\\^$.*+?()[\]{}|/\-,:;=!<>'"#&%@~` ]/;
/** Escapes that stand for a class or an assertion: they end a run. */
const ESCAPED_CLASS = /[dDsSwWbB]/;

/**
 * The longest required literal of one alternative (no top-level `|` in it), or null when none of
 * at least {@link MIN_LITERAL} characters is found or the syntax is not understood.
 */
export function requiredLiteral(alt: string): string | null {
  let best = "";
  let run = "";
  const end = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  let i = 0;
  const n = alt.length;
  /** Skip a quantifier at i (`?`, `*`, `+`, `{n,m}`, each optionally lazy); true when one was there. */
  const skipQuantifier = (): boolean => {
    const c = alt[i];
    if (c === "?" || c === "*" || c === "+") i++;
    else if (c === "{" && /^\{\d+(?:,\d*)?\}/.test(alt.slice(i))) i = alt.indexOf("}", i) + 1;
    else return false;
    if (alt[i] === "?") i++;
    return true;
  };
  while (i < n) {
    const c = alt[i]!;
    if (c === "(") {
      // skip the whole group (its content is not required as a run at depth 0)
      let depth = 0;
      let inClass = false;
      for (; i < n; i++) {
        const g = alt[i];
        if (g === "\\") i++;
        else if (inClass) inClass = g !== "]";
        else if (g === "[") inClass = true;
        else if (g === "(") depth++;
        else if (g === ")" && --depth === 0) break;
      }
      if (i >= n) return null; // unbalanced
      i++;
      end();
      skipQuantifier();
      continue;
    }
    if (c === "[") {
      for (i++; i < n && alt[i] !== "]"; i++) if (alt[i] === "\\") i++;
      if (i >= n) return null;
      i++;
      end();
      skipQuantifier();
      continue;
    }
    if (c === "." || c === "^" || c === "$") {
      i++;
      end();
      skipQuantifier();
      continue;
    }
    if (c === ")" || c === "]" || c === "|" || c === "?" || c === "*" || c === "+") return null;
    if (c === "{") {
      // a literal brace is allowed only where it cannot be read as a quantifier
      if (/^\{\d+(?:,\d*)?\}/.test(alt.slice(i))) return null;
    }
    let lit: string;
    if (c === "\\") {
      const e = alt[i + 1];
      if (e === undefined) return null;
      if (ESCAPED_CLASS.test(e)) {
        i += 2;
        end();
        skipQuantifier();
        continue;
      }
      if (!ESCAPED_LITERAL.test(e)) return null; // \x41, \u…, \p{…}, \1, \k<…>, \n …: not read here
      lit = e;
      i += 2;
    } else {
      lit = c;
      i++;
    }
    const q = alt[i];
    if (q === "?" || q === "*" || q === "{") {
      // optional or counted: not required as part of this run
      end();
      if (!skipQuantifier()) return null;
      continue;
    }
    run += lit;
    if (q === "+") {
      end();
      skipQuantifier();
    }
  }
  end();
  return best.length >= MIN_LITERAL ? best : null;
}

/** `s` as a regex source that matches exactly `s`. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/**
 * The literal an alternative matches exactly (`Traceback \\(` → `Traceback (`), or null when it has
 * any syntax besides plain characters and escaped punctuation.
 */
export function exactLiteral(alt: string): string | null {
  let out = "";
  for (let i = 0; i < alt.length; i++) {
    const c = alt[i]!;
    if (c === "\\") {
      const e = alt[++i];
      if (e === undefined || !ESCAPED_LITERAL.test(e)) return null;
      out += e;
    } else if ("^$.*+?()[]{}|".includes(c)) return null;
    else out += c;
  }
  return out;
}

/**
 * A regex source whose outer group spans all of it (`(a|b)`, `(?:a|b)`) without that group (same
 * lines matched); anything else as it is.
 */
export function unwrapGroup(source: string): string {
  if (source[0] !== "(" || source.startsWith("(?=") || source.startsWith("(?!") || source.startsWith("(?<"))
    return source;
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) {
      if (i !== source.length - 1) return source;
      return source.slice(source.startsWith("(?:") ? 3 : 1, -1);
    }
  }
  return source;
}

/**
 * One regex source that matches every line any of the given flagless regex sources matches, built
 * to be cheap to run on every line: one flat alternation (JavaScriptCore scans it faster than
 * nested groups) of
 * - for `exact` sources, each top-level alternative that is a plain literal, as that literal, and
 *   every other alternative whole (so the pre-test matches exactly their lines);
 * - for `required` sources (costly regexes checked again on a hit), each alternative's required
 *   literal ({@link requiredLiteral}) without leading spaces, or the whole alternative where none
 *   can be read;
 * and a literal that contains another literal is dropped (the shorter one already matches). Null
 * when an alternative kept whole cannot be joined with others (a back-reference or a named group
 * would change meaning once the groups are renumbered).
 */
export function preTestSource(exact: readonly string[], required: readonly string[]): string | null {
  const literals = new Set<string>();
  const whole: string[] = [];
  for (const src of exact) {
    for (const alt of topLevelAlternatives(unwrapGroup(src))) {
      const lit = exactLiteral(alt);
      if (lit !== null && lit.length > 0) literals.add(lit);
      else whole.push(alt);
    }
  }
  for (const src of required) {
    for (const alt of topLevelAlternatives(src)) {
      const lit = requiredLiteral(alt)?.trimStart();
      if (lit !== undefined && lit.length >= MIN_LITERAL) literals.add(lit);
      else whole.push(alt);
    }
  }
  // an alternative has no top-level `|`, so it joins the alternation as it is (no group)
  if (whole.some((w) => JOIN_BREAKERS.test(w))) return null;
  const sorted = [...literals].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const kept: string[] = [];
  for (const l of sorted) if (!kept.some((k) => l.includes(k))) kept.push(l);
  return [...kept.map(escapeRegex), ...whole].join("|");
}

/** Back-references and named groups: their meaning depends on the other groups of the regex. */
const JOIN_BREAKERS = /\\[1-9]|\\k<|\(\?<(?![=!])/;

/** {@link preTestSource} for `required` sources alone. */
export function literalPreTest(sources: readonly string[]): string | null {
  return preTestSource([], sources);
}
