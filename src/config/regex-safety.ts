/**
 * @module
 * A static check for user regexes that backtrack catastrophically (issue 16, finding 5): each of
 * `(a+)+$`, `^(a|a)+$`, `(.*a){25}$`, `^(\w+\s?)*$` cost ~1 s of CPU per bad line and blinded the
 * monitor. JavaScript regexes cannot be interrupted, so such patterns are refused when the config
 * loads, with the reason and a rewrite hint; src/detectors/pattern.ts also bounds run time.
 *
 * The check works on a small parse of the (already translated, JavaScript) pattern. A group that
 * repeats (`*`, `+`, `{n,}`, `{n,m}` with m > 1) is refused when
 * - its body holds an unbounded quantifier (`+`, `*`, `{n,}`) over something that nothing mandatory
 *   in the body separates from the next repetition ("nested quantifiers": `(a+)+`, `(\w+\s?)*`,
 *   `(.*a){25}`, where `.` also matches the `a`); `(\d+\.)+` passes: the `.` literal cannot be a
 *   digit, so each repetition ends in one place only;
 * - it is an alternation two of whose branches can start with the same character (`(a|a)+`,
 *   `(\w|\d)*`).
 * Character overlap is decided by testing each atom against a sample alphabet (ASCII plus a few
 * non-ASCII letters, digits and spaces), so classes, escapes and ranges need no set algebra.
 * False positives are possible (the error says how to rewrite); false negatives remain for
 * patterns that are only polynomially slow (`.*.*.*x`), which the run-time bound covers.
 */

const SAMPLE: string[] = (() => {
  const out: string[] = [];
  for (let c = 0; c < 128; c++) out.push(String.fromCharCode(c));
  out.push("é", "ß", "Ж", "中", "٣", "\u00a0", "\u2028", "😀");
  return out;
})();

type Node =
  | { t: "atom"; src: string }
  | { t: "group"; alts: Node[][]; lookaround: boolean }
  | { t: "quant"; node: Node; min: number; max: number; src: string };

class Parser {
  i = 0;
  constructor(
    readonly s: string,
    readonly flags: string,
  ) {}

  parseAlts(): Node[][] {
    const alts: Node[][] = [[]];
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === ")") break;
      if (c === "|") {
        this.i++;
        alts.push([]);
        continue;
      }
      const start = this.i;
      let node = this.parseAtom();
      node = this.parseQuant(node, start);
      alts[alts.length - 1]!.push(node);
    }
    return alts;
  }

  parseAtom(): Node {
    const s = this.s;
    const c = s[this.i]!;
    if (c === "(") {
      this.i++;
      let lookaround = false;
      if (s[this.i] === "?") {
        const m = /^\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(s.slice(this.i));
        if (m) {
          lookaround = ["?=", "?!", "?<=", "?<!"].includes(m[0]);
          this.i += m[0].length;
        }
      }
      const alts = this.parseAlts();
      this.i++; // ")"
      return { t: "group", alts, lookaround };
    }
    if (c === "[") {
      const start = this.i;
      this.i++;
      if (s[this.i] === "^") this.i++;
      if (s[this.i] === "]") this.i++;
      while (this.i < s.length && s[this.i] !== "]") {
        if (s[this.i] === "\\") this.i++;
        this.i++;
      }
      this.i++;
      return { t: "atom", src: s.slice(start, this.i) };
    }
    if (c === "\\") {
      const start = this.i;
      this.i += 2;
      const k = s[start + 1];
      if (k === "u" && s[this.i] === "{") this.i = s.indexOf("}", this.i) + 1;
      else if (k === "u") this.i += 4;
      else if (k === "x") this.i += 2;
      else if (k === "k" && s[this.i] === "<") this.i = s.indexOf(">", this.i) + 1;
      else if ((k === "p" || k === "P") && s[this.i] === "{") this.i = s.indexOf("}", this.i) + 1;
      else if (k === "c") this.i += 1;
      return { t: "atom", src: s.slice(start, this.i) };
    }
    this.i++;
    return { t: "atom", src: c };
  }

  parseQuant(node: Node, start: number): Node {
    const s = this.s;
    const c = s[this.i];
    let min: number;
    let max: number;
    if (c === "*" || c === "+" || c === "?") {
      this.i++;
      min = c === "+" ? 1 : 0;
      max = c === "?" ? 1 : Number.POSITIVE_INFINITY;
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
      if (!m) return node;
      this.i += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
    } else {
      return node;
    }
    if (s[this.i] === "?") this.i++; // lazy: backtracks the same way
    return { t: "quant", node, min, max, src: s.slice(start, this.i) };
  }
}

/** The sample characters an atom can match (empty for anchors, which match no character). */
function charsOf(src: string, flags: string): Set<string> {
  if (src === "^" || src === "$" || src === "\\b" || src === "\\B") return new Set();
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${src})$`, flags.replace(/[gym]/g, ""));
  } catch {
    return new Set(SAMPLE); // an atom we could not isolate (a back-reference): assume anything
  }
  return new Set(SAMPLE.filter((ch) => re.test(ch)));
}

function overlaps(a: Set<string>, b: Set<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/** Characters a sequence can start with. */
function firstChars(seq: Node[], flags: string): Set<string> {
  const out = new Set<string>();
  for (const n of seq) {
    const { chars, nullable } = firstOf(n, flags);
    for (const c of chars) out.add(c);
    if (!nullable) break;
  }
  return out;
}

function firstOf(n: Node, flags: string): { chars: Set<string>; nullable: boolean } {
  if (n.t === "atom") {
    const chars = charsOf(n.src, flags);
    return { chars, nullable: chars.size === 0 };
  }
  if (n.t === "quant") {
    const inner = firstOf(n.node, flags);
    return { chars: inner.chars, nullable: n.min === 0 || inner.nullable };
  }
  if (n.lookaround) return { chars: new Set(), nullable: true };
  const chars = new Set<string>();
  let nullable = false;
  for (const alt of n.alts) {
    for (const c of firstChars(alt, flags)) chars.add(c);
    if (alt.every((x) => firstOf(x, flags).nullable)) nullable = true;
  }
  return { chars, nullable };
}

/** Every character any part of `n` can match (for "does a separator differ from the repeated part"). */
function allChars(n: Node, flags: string): Set<string> {
  if (n.t === "atom") return charsOf(n.src, flags);
  if (n.t === "quant") return allChars(n.node, flags);
  const out = new Set<string>();
  for (const alt of n.alts) for (const x of alt) for (const c of allChars(x, flags)) out.add(c);
  return out;
}

/** Unbounded quantifiers anywhere inside `seq` (not counting `seq`'s own repetition). */
function unboundedInside(seq: Node[]): Array<Extract<Node, { t: "quant" }>> {
  const out: Array<Extract<Node, { t: "quant" }>> = [];
  const walk = (n: Node) => {
    if (n.t === "quant") {
      if (n.max === Number.POSITIVE_INFINITY) out.push(n);
      walk(n.node);
    } else if (n.t === "group") {
      for (const alt of n.alts) for (const x of alt) walk(x);
    }
  };
  for (const n of seq) walk(n);
  return out;
}

/** Mandatory single-character atoms at the top level of a sequence (candidate separators). */
function mandatoryAtoms(seq: Node[], flags: string): Set<string>[] {
  const out: Set<string>[] = [];
  for (const n of seq) {
    if (n.t === "atom") {
      const cs = charsOf(n.src, flags);
      if (cs.size > 0) out.push(cs);
    } else if (n.t === "quant" && n.min >= 1 && n.node.t === "atom") {
      const cs = charsOf(n.node.src, flags);
      if (cs.size > 0 && n.max !== Number.POSITIVE_INFINITY) out.push(cs);
    }
  }
  return out;
}

function checkRepeatedGroup(q: Extract<Node, { t: "quant" }>, flags: string): string | null {
  if (q.node.t !== "group" || q.max <= 1) return null;
  const g = q.node;
  // Overlapping alternation: two branches that can begin with the same character.
  if (g.alts.length > 1) {
    const starts = g.alts.map((alt) => firstChars(alt, flags));
    for (let a = 0; a < starts.length; a++) {
      for (let b = a + 1; b < starts.length; b++) {
        if (overlaps(starts[a]!, starts[b]!))
          return `the repeated group ${q.src} has alternatives that can match the same text (overlapping alternation); make the alternatives exclusive, e.g. (a|b)+ instead of (a|a)+`;
      }
    }
  }
  // Nested quantifier: an unbounded repetition inside a repeated group, with no mandatory part of
  // the body that the inner repetition cannot also consume.
  const seq = g.alts.length === 1 ? g.alts[0]! : null;
  const inner = unboundedInside(g.alts.flat());
  if (inner.length === 0) return null;
  if (seq !== null) {
    const seps = mandatoryAtoms(seq, flags);
    const safe = inner.every((iq) => {
      const repeated = allChars(iq.node, flags);
      return seps.some((sep) => !overlaps(sep, repeated));
    });
    if (safe) return null;
  }
  return `nested quantifiers: ${inner[0]!.src} repeats inside the repeated group ${q.src}, so one line can be split in exponentially many ways (catastrophic backtracking); drop the inner or the outer repetition, e.g. (a+)+ → a+, or separate repetitions by a character the inner part cannot match, e.g. (\\w+\\s)*`;
}

/**
 * Why `source` (a JavaScript regex source, see translateRegex) may backtrack catastrophically, or
 * null when the check finds nothing.
 */
export function catastrophicReason(source: string, flags = ""): string | null {
  const p = new Parser(source, flags);
  let alts: Node[][];
  try {
    alts = p.parseAlts();
  } catch {
    return null; // the compiler already reported a syntax error, or the parse is beyond this check
  }
  let found: string | null = null;
  const walk = (n: Node) => {
    if (found) return;
    if (n.t === "quant") {
      found = checkRepeatedGroup(n, flags);
      walk(n.node);
    } else if (n.t === "group") {
      for (const alt of n.alts) for (const x of alt) walk(x);
    }
  };
  for (const alt of alts) for (const n of alt) walk(n);
  return found;
}
