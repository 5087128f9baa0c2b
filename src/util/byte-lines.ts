/**
 * @module
 * Lines held as byte ranges of a chunk of UTF-8 output, decoded only when someone reads them (the
 * bytes ingest path, issue 13; docs/architecture.md, "Ingest").
 *
 * {@link LineBatch} is what a byte scanner fills for one chunk: where each line's text starts and
 * ends and its stream code. {@link PendingLines} keeps, for a ring of the last `keep` lines, the
 * lines that were counted but not yet decoded: only the newest `keep` of them are held (as copies of
 * their offsets, with the chunk they point into), and they are decoded the first time the ring is
 * read or a string line is pushed after them.
 *
 * Decoding one line on its own gives the same text as decoding the whole stream and splitting it:
 * UTF-8 resynchronises at every ASCII byte (the line terminators and frame tags are ASCII), an
 * incomplete sequence before a terminator becomes U+FFFD either way, and the byte order mark is
 * kept (`ignoreBOM`): a streaming decoder strips it only at the very start of its stream, where
 * the frame protocol has a tag byte.
 */

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The UTF-8 text of `bytes[from, to)`. */
export function decodeRange(bytes: Uint8Array, from: number, to: number): string {
  return from === to ? "" : decoder.decode(bytes.subarray(from, to));
}

const INITIAL = 4096;

/** The lines a scanner found in one chunk: text of line i is `bytes[start[i], end[i])`. */
export class LineBatch {
  bytes: Uint8Array = new Uint8Array(0);
  start = new Int32Array(INITIAL);
  end = new Int32Array(INITIAL);
  stream = new Uint8Array(INITIAL);
  count = 0;

  /** Start over on another chunk. */
  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.count = 0;
  }

  /** Room for one more line (call when `count === capacity`). */
  grow(): void {
    const n = this.start.length * 2;
    const s = new Int32Array(n);
    s.set(this.start);
    this.start = s;
    const e = new Int32Array(n);
    e.set(this.end);
    this.end = e;
    const st = new Uint8Array(n);
    st.set(this.stream);
    this.stream = st;
  }

  get capacity(): number {
    return this.start.length;
  }

  /** Append a line. */
  add(from: number, to: number, stream: number): void {
    if (this.count === this.start.length) this.grow();
    const n = this.count++;
    this.start[n] = from;
    this.end[n] = to;
    this.stream[n] = stream;
  }

  /** The text of line `i`. */
  text(i: number): string {
    return decodeRange(this.bytes, this.start[i]!, this.end[i]!);
  }
}

interface Segment {
  bytes: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  stream: Uint8Array;
}

/** Counted but undecoded lines of a ring that holds the last `keep` lines (oldest first). */
export class PendingLines {
  private segs: Segment[] = [];
  /** Lines held over all segments. */
  private held = 0;
  /** True while something is held (checked on every push of the string path: a field, not a getter). */
  any = false;

  constructor(readonly keep: number) {}

  /** Lines [from, to) of `batch` come next; only the newest `keep` are held. */
  add(batch: LineBatch, from: number, to: number): void {
    const n = to - from;
    if (n <= 0 || this.keep <= 0) return;
    const k = n < this.keep ? n : this.keep;
    const s = to - k;
    const seg: Segment = {
      bytes: batch.bytes,
      start: batch.start.slice(s, to),
      end: batch.end.slice(s, to),
      stream: batch.stream.slice(s, to),
    };
    if (k >= this.keep) {
      this.segs = [seg];
      this.held = k;
    } else {
      this.segs.push(seg);
      this.held += k;
      while (this.segs.length > 1 && this.held - this.segs[0]!.start.length >= this.keep) {
        this.held -= this.segs[0]!.start.length;
        this.segs.shift();
      }
    }
    this.any = true;
  }

  /** Decode what is held, oldest first (at most `keep` lines), and forget it. */
  drain(push: (text: string, stream: number) => void): void {
    let skip = this.held - this.keep;
    const segs = this.segs;
    this.segs = [];
    this.held = 0;
    this.any = false;
    for (const seg of segs) {
      for (let i = 0; i < seg.start.length; i++) {
        if (skip > 0) {
          skip--;
          continue;
        }
        push(decodeRange(seg.bytes, seg.start[i]!, seg.end[i]!), seg.stream[i]!);
      }
    }
  }

  clear(): void {
    this.segs = [];
    this.held = 0;
    this.any = false;
  }
}

/**
 * The complete lines of `b[from, to)` into `batch` (each a tag byte, `tags[tag]` its stream code,
 * its text and `\n`, `\r` or `\r\n`), stopping before a byte that is not a line tag, a line of
 * more than `maxLine` bytes of text or an unterminated rest. Returns where it stopped.
 */
export function splitLines(
  b: Uint8Array,
  from: number,
  to: number,
  tags: Int8Array,
  maxLine: number,
  batch: LineBatch,
): number {
  batch.reset(b);
  // without a `\r` (the capture process never sends one) a line ends at the next `\n`
  const cr = b.indexOf(13, from);
  const lfOnly = cr === -1 || cr >= to;
  let i = from;
  while (i < to) {
    const tag = tags[b[i]!]!;
    if (tag < 0) return i;
    let j: number;
    if (lfOnly) {
      j = b.indexOf(10, i + 1);
      if (j === -1) j = to;
    } else {
      j = i + 1;
      while (j < to && b[j] !== 10 && b[j] !== 13) j++;
    }
    if (j >= to || j - i - 1 > maxLine) return i;
    batch.add(i + 1, j, tag);
    i = j + 1;
    if (b[j] === 13 && i < to && b[i] === 10) i++;
  }
  return i;
}
