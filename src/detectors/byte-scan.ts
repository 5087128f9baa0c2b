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
import { type LineBatch, decodeRange } from "../util/byte-lines.ts";
import { exactLiteral, requiredLiteral, topLevelAlternatives } from "./required-literals.ts";

/** What the scan asks of the detector set. */
export interface ByteScanHost {
  /** True while every line must take the string path (a traceback detector has a trace open). */
  readonly stringOnly: boolean;
  /** Line `i` of `batch` contains a literal of the pre-test: does it pass the real one? */
  passes(batch: LineBatch, i: number): boolean;
  /** Line `i` of `batch` needs the string path; true to stop after it (it made detections). */
  slowLine(batch: LineBatch, i: number): boolean;
  /** The line's first metric match, read from the bytes (the step number and its digits). */
  progress(v: number, bytes: Uint8Array, from: number, to: number): void;
}

const MIN_BYTES = 3;
const enc = new TextEncoder();
const tri = (h2: number, c: number) => Math.imul((h2 << 8) | c, 0x9e3779b1) >>> 12;

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
  /** Per literal: true for a stall metric word (else a pre-test literal). */
  private readonly isWord: boolean[];
  private readonly bigram = new Uint8Array(65536);
  private readonly byBigram: number[][];
  private readonly trigram = new Uint8Array(1 << 20);
  private readonly hasWords: boolean;

  private constructor(literals: string[], words: string[]) {
    this.lits = [...literals, ...words].map((l) => enc.encode(l));
    this.isWord = [...literals.map(() => false), ...words.map(() => true)];
    this.hasWords = words.length > 0;
    this.byBigram = Array.from({ length: 65536 }, () => []);
    this.lits.forEach((l, k) => {
      const h = (l[0]! << 8) | l[1]!;
      this.bigram[h] = 1;
      this.byBigram[h]!.push(k);
      this.trigram[tri(h, l[2]!)] = 1;
    });
  }

  /**
   * A scanner for a pre-test regex (null: none) and the stall metric's words (empty: none), or null
   * when the pre-test cannot be read as literals (the set then keeps the string path).
   */
  static build(preTest: RegExp | null, words: readonly string[]): ByteScanner | null {
    const literals: string[] = [];
    if (preTest !== null) {
      // flags would change what a literal means (`i`, `u`, `v`, `s`, `m` with anchors)
      if (preTest.flags.replace(/[gy]/g, "") !== "") return null;
      for (const alt of topLevelAlternatives(preTest.source)) {
        const lit = alternativeLiteral(alt);
        if (lit === null || !usable(lit)) return null;
        literals.push(lit);
      }
    }
    if (!words.every(usable)) return null;
    if (literals.length === 0 && words.length === 0) return null;
    return new ByteScanner(literals, [...words]);
  }

  /**
   * Scan the lines of `b[from, to)`: each one a tag byte (`tags[tag]` its stream code, -1: not a
   * line, stop there), its text, and a terminator. Stops before a line whose tag is not a line's,
   * a line longer than `maxLine` bytes, or an unterminated rest; after a line `host.slowLine`
   * asked to stop at. Returns where it stopped; `batch` holds the lines taken.
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
    const bigram = this.bigram;
    const trigram = this.trigram;
    const byBigram = this.byBigram;
    const lits = this.lits;
    const isWord = this.isWord;
    const hasWords = this.hasWords;
    let i = from;
    while (i < to) {
      const tag = tags[b[i]!]!;
      if (tag < 0) return i;
      const start = i + 1;
      let hit = false;
      let fallback = false;
      let stalled = !hasWords;
      let value = -1;
      let digitsFrom = 0;
      let digitsTo = 0;
      let j = start;
      for (; j < to; j++) {
        const c = b[j]!;
        if (c === 10 || c === 13) break;
        if (j + 2 >= to) continue;
        const h = (c << 8) | b[j + 1]!;
        if (bigram[h] === 0 || trigram[tri(h, b[j + 2]!)] === 0) continue;
        const ks = byBigram[h]!;
        for (let q = 0; q < ks.length; q++) {
          const k = ks[q]!;
          const lb = lits[k]!;
          if (j + lb.length > to) continue;
          let x = 2;
          while (x < lb.length && b[j + x] === lb[x]) x++;
          if (x < lb.length) continue;
          if (!isWord[k]) {
            hit = true;
            continue;
          }
          if (stalled) continue;
          // `\s+(\d+)` after the word
          let p = j + lb.length;
          while (p < to && (b[p] === 32 || b[p] === 9 || b[p] === 11 || b[p] === 12)) p++;
          if (p < to && b[p]! >= 0x80) {
            // a non-ASCII space may follow: the metric regex decides on the decoded line
            stalled = true;
            fallback = true;
            continue;
          }
          if (p === j + lb.length) continue;
          const d0 = p;
          let v = 0;
          while (p < to && b[p]! >= 48 && b[p]! <= 57) v = v * 10 + (b[p++]! - 48);
          if (p === d0) continue;
          if (p - d0 > 15) v = Number(decodeRange(b, d0, p));
          stalled = true;
          value = v;
          digitsFrom = d0;
          digitsTo = p;
        }
      }
      if (j >= to || j - start > maxLine) return i;
      let next = j + 1;
      if (b[j] === 13 && next < to && b[next] === 10) next++;
      batch.add(start, j, tag);
      if (fallback || host.stringOnly || (hit && host.passes(batch, batch.count - 1))) {
        if (host.slowLine(batch, batch.count - 1)) return next;
      } else if (value >= 0) host.progress(value, b, digitsFrom, digitsTo);
      i = next;
    }
    return i;
  }
}

/**
 * A literal that means the same in bytes as in text: at least 3 bytes, no line terminator, no
 * U+FFFD (an invalid byte decodes to it) and no lone surrogate.
 */
function usable(lit: string): boolean {
  return enc.encode(lit).length >= MIN_BYTES && !/[\n\r\uFFFD]/.test(lit) && lit.isWellFormed();
}
