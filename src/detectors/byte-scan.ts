/**
 * @module
 * The detector set's per-line work done on raw UTF-8 bytes (issue 13; docs/architecture.md,
 * "Ingest: the bytes path"). One pass over a chunk of tagged lines (a tag byte, the text, `\n`, `\r`
 * or `\r\n`: the local capture process's `O`/`E` frames) finds each line's end, whether the line
 * contains a literal of the set's combined pre-test, and the stall metric's first step number.
 * Only a line with such a literal (or any line while a trace is open, or one whose metric match
 * the bytes cannot decide) is decoded and observed as a string, exactly as the string path would;
 * every other line is only counted, and its offsets are kept for the rings that decode their
 * newest lines when read (src/util/byte-lines.ts).
 *
 * A literal filter is exact only as a superset: every line the pre-test matches contains one of
 * its literals, and the line is then checked with the real pre-test. {@link ByteScanner.build}
 * returns null (the set keeps the string path) when some alternative of the pre-test has no
 * literal of at least 3 bytes, or a literal could match differently in bytes than in text.
 *
 * Literals are found with a table of their first two bytes and a hash of their first three
 * (a miss costs two array reads per byte), then compared byte by byte.
 */
import { decodeRange, type LineBatch } from "../util/byte-lines.ts";
import { exactLiteral, requiredLiteral, topLevelAlternatives } from "./required-literals.ts";

/** What the scan asks of the detector set. */
export interface ByteScanHost {
  /** True while every line must take the string path (a traceback detector has a trace open). */
  readonly stringOnly: boolean;
  /** Line `i` of `batch` needs the string path; true to stop after it (it made detections). */
  slowLine(batch: LineBatch, i: number): boolean;
  /** The line's first metric match, read from the bytes (the step number and its digits). */
  progress(v: number, bytes: Uint8Array, from: number, to: number): void;
}

const MIN_BYTES = 3;
const enc = new TextEncoder();
/** A 16-bit hash of three bytes. */
const hash3 = (a: number, b: number, c: number) => Math.imul((a << 16) | (b << 8) | c, 0x9e3779b1) >>> 16;

/**
 * The alternative as a literal candidate source: ` {n}` written as n spaces and `\t` as a tab (the
 * trace trigger's `^ {4}at `-style frame lines), everything else as it is.
 */
function plainForm(alt: string): string {
  let out = "";
  for (let i = 0; i < alt.length; i++) {
    const c = alt[i]!;
    if (c === "\\") {
      const e = alt[i + 1];
      if (e === "t") out += "\t";
      else out += c + (e ?? "");
      i++;
      continue;
    }
    if (c === " ") {
      const m = /^ \{(\d{1,2})\}(?!\?)/.exec(alt.slice(i));
      if (m !== null) {
        out += " ".repeat(Number(m[1]));
        i += m[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** The literal every match of `alt` contains, or null. */
export function alternativeLiteral(alt: string): string | null {
  const plain = plainForm(alt);
  return exactLiteral(plain) ?? requiredLiteral(plain);
}

export class ByteScanner {
  private readonly lits: Uint8Array[];
  /** Per literal: -1 for a stall metric word, else its alternative's index in the pre-test. */
  private readonly alt: Int32Array;
  /**
   * The bytes are looked at two at a time (positions start, start+2, …): a literal of 3 bytes or
   * more that starts at p has its first two bytes at an even offset, or its second and third.
   * Bit 1: some literal starts with this pair; bit 2: some literal has it at its second byte.
   */
  private readonly pair = new Uint8Array(65536);
  /** A hash of the first three bytes of every literal (a pair hit is checked against it first). */
  private readonly head = new Uint8Array(1 << 16);
  private readonly startsWith: number[][];
  private readonly secondIs: number[][];
  private readonly hasWords: boolean;
  /** Each pre-test alternative alone (a line with its literal is checked against these). */
  private readonly alternatives: RegExp[];
  /** The chunk and position of its first `\r` at or after {@link crFrom} (-1: none) last looked up. */
  private crBytes: Uint8Array | null = null;
  private crFrom = 0;
  private crAt = -1;

  private constructor(
    private readonly preTest: RegExp | null,
    literals: string[],
    alternatives: string[],
    words: string[],
  ) {
    this.lits = [...literals, ...words].map((l) => enc.encode(l));
    this.alt = Int32Array.from([...literals.map((_, i) => i), ...words.map(() => -1)]);
    this.alternatives = alternatives.map((a) => new RegExp(a));
    this.hasWords = words.length > 0;
    this.startsWith = Array.from({ length: 65536 }, () => []);
    this.secondIs = Array.from({ length: 65536 }, () => []);
    this.lits.forEach((l, k) => {
      const h0 = (l[0]! << 8) | l[1]!;
      const h1 = (l[1]! << 8) | l[2]!;
      this.pair[h0]! |= 1;
      this.startsWith[h0]!.push(k);
      this.pair[h1]! |= 2;
      this.secondIs[h1]!.push(k);
      this.head[hash3(l[0]!, l[1]!, l[2]!)] = 1;
    });
  }

  /**
   * A scanner for a pre-test regex (null: none) and the stall metric's words (empty: none), or null
   * when the pre-test cannot be read as literals (the set then keeps the string path).
   */
  static build(preTest: RegExp | null, words: readonly string[]): ByteScanner | null {
    const literals: string[] = [];
    const alternatives: string[] = [];
    if (preTest !== null) {
      // flags would change what a literal means (`i`, `u`, `v`, `s`, `m` with anchors)
      if (preTest.flags.replace(/[gy]/g, "") !== "") return null;
      for (const alt of topLevelAlternatives(preTest.source)) {
        const lit = alternativeLiteral(alt);
        if (lit === null || !usable(lit)) return null;
        literals.push(lit);
        alternatives.push(alt);
      }
    }
    if (!words.every(usable)) return null;
    if (literals.length === 0 && words.length === 0) return null;
    return new ByteScanner(preTest, literals, alternatives, [...words]);
  }

  /**
   * Scan the lines of `b[from, to)`: each one a tag byte (`tags[tag]` its stream code, -1: not a
   * line, stop there), its text, and a terminator (`\n`, `\r` or `\r\n`). Stops before a line
   * whose tag is not a line's, a line longer than `maxLine` bytes, or an unterminated rest; after
   * a line `host.slowLine` asked to stop at. Returns where it stopped; `batch` holds the lines
   * taken.
   */
  scan(
    b: Uint8Array,
    from: number,
    to: number,
    tags: Int8Array,
    maxLine: number,
    batch: LineBatch,
    host: ByteScanHost,
  ): number {
    batch.reset(b);
    // without a `\r` in the chunk (the capture process never sends one) a line ends at the next `\n`
    if (b !== this.crBytes || from < this.crFrom || (this.crAt !== -1 && this.crAt < from)) {
      this.crBytes = b;
      this.crFrom = from;
      this.crAt = b.indexOf(13, from);
    }
    const cr = this.crAt === -1 || this.crAt >= to ? -1 : this.crAt;
    const pair = this.pair;
    const head = this.head;
    const startsWith = this.startsWith;
    const secondIs = this.secondIs;
    const hasWords = this.hasWords;
    const found = this.found;
    let i = from;
    while (i < to) {
      const tag = tags[b[i]!]!;
      if (tag < 0) return i;
      const start = i + 1;
      let end: number;
      if (cr === -1) {
        end = b.indexOf(10, start);
        if (end === -1 || end >= to) return i;
      } else {
        end = start;
        while (end < to && b[end] !== 10 && b[end] !== 13) end++;
        if (end >= to) return i;
      }
      if (end - start > maxLine) return i;
      this.nFound = 0;
      this.stalled = !hasWords;
      this.value = -1;
      this.fallback = false;
      for (let j = start; j + 1 < end; j += 2) {
        const h = (b[j]! << 8) | b[j + 1]!;
        const f = pair[h]!;
        if (f === 0) continue;
        if ((f & 2) !== 0 && j > start && head[hash3(b[j - 1]!, b[j]!, b[j + 1]!)] === 1)
          this.tryAt(b, j - 1, end, secondIs[h]!);
        if ((f & 1) !== 0 && j + 2 < end && head[hash3(b[j]!, b[j + 1]!, b[j + 2]!)] === 1)
          this.tryAt(b, j, end, startsWith[h]!);
      }
      let next = end + 1;
      if (b[end] === 13 && next < to && b[next] === 10) next++;
      batch.add(start, end, tag);
      if (
        this.fallback ||
        host.stringOnly ||
        (this.nFound > 0 && this.passes(batch, batch.count - 1, found))
      ) {
        if (host.slowLine(batch, batch.count - 1)) return next;
      } else if (this.value >= 0) host.progress(this.value, b, this.digitsFrom, this.digitsTo);
      i = next;
    }
    return i;
  }

  // the current line's findings (fields: a method that returns several values would allocate)
  private nFound = 0;
  private readonly found = new Int32Array(8);
  private stalled = false;
  private fallback = false;
  private value = -1;
  private digitsFrom = 0;
  private digitsTo = 0;

  /** Does one of the literals `ks` start at `p` (and end by `end`)? */
  private tryAt(b: Uint8Array, p: number, end: number, ks: number[]): void {
    for (let q = 0; q < ks.length; q++) {
      const k = ks[q]!;
      const lb = this.lits[k]!;
      const n = lb.length;
      if (p + n > end) continue;
      let x = 0;
      while (x < n && b[p + x] === lb[x]) x++;
      if (x < n) continue;
      const alt = this.alt[k]!;
      if (alt >= 0) {
        // a pre-test literal: remember its alternative (up to 8; more: the whole pre-test decides)
        const nf = this.nFound;
        if (nf < 8) this.found[nf] = alt;
        this.nFound = nf + 1;
        continue;
      }
      if (this.stalled) continue;
      // a stall metric word: `\s+(\d+)` after it
      let e = p + n;
      while (e < end && (b[e] === 32 || b[e] === 9 || b[e] === 11 || b[e] === 12)) e++;
      if (e < end && b[e]! >= 0x80) {
        // a non-ASCII space may follow: the metric regex decides on the decoded line
        this.stalled = true;
        this.fallback = true;
        continue;
      }
      if (e === p + n) continue;
      const d0 = e;
      let v = 0;
      while (e < end && b[e]! >= 48 && b[e]! <= 57) v = v * 10 + (b[e++]! - 48);
      if (e === d0) continue;
      if (e - d0 > 15) v = Number(decodeRange(b, d0, e));
      this.stalled = true;
      this.value = v;
      this.digitsFrom = d0;
      this.digitsTo = e;
    }
  }

  /** A line with literals of the pre-test: does one of their alternatives match the decoded line? */
  private passes(batch: LineBatch, i: number, found: Int32Array): boolean {
    const text = batch.text(i);
    const n = this.nFound;
    if (n > found.length) return this.preTest!.test(text);
    for (let k = 0; k < n; k++) {
      const re = this.alternatives[found[k]!]!;
      if (re.test(text)) return true;
    }
    return false;
  }
}

/**
 * A literal that means the same in bytes as in text: at least 3 bytes, no line terminator, no
 * U+FFFD (an invalid byte decodes to it) and no lone surrogate.
 */
function usable(lit: string): boolean {
  return enc.encode(lit).length >= MIN_BYTES && !/[\n\r\uFFFD]/.test(lit) && lit.isWellFormed();
}
