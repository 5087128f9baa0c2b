/**
 * @module
 * Splitting the capture process's frame stream (protocol.ts) into frames, on bytes (issue 13, the
 * bytes ingest path). It gives exactly the frames a streaming `TextDecoder` followed by a
 * `LineSplitter(maxChars)` gives (`\n`, `\r\n` and a lone `\r` end a frame; a frame longer than
 * `maxChars` characters is cut with the marker and the rest dropped), but runs of line frames
 * (`O`/`E`) can be handed over undecoded: {@link FrameHandler.lines} takes them as bytes and says
 * where it stopped; everything else is decoded and passed as a string.
 *
 * Decoding frame by frame gives the text the streaming decoder gives: see src/util/byte-lines.ts.
 * The cut is in characters, as before; since a frame of at most `maxChars` bytes cannot have more
 * characters, only longer frames are decoded to check it, and an unterminated rest is carried
 * until it is certainly too long (3 bytes per character at most, plus a partial one).
 */
import { decodeRange } from "../../util/byte-lines.ts";
import { LINE_CUT_MARKER } from "../../util/lines.ts";

export interface FrameHandler {
  /** One frame (tag character and payload), decoded. */
  frame(f: string): void;
  /**
   * Line frames start at `bytes[from]`; take as many complete ones of `bytes[from, to)` as wanted,
   * none of them longer than `maxLine` bytes after the tag, and return where it stopped (`from`:
   * take none, the frame at `from` is then passed to {@link frame}).
   */
  lines?(bytes: Uint8Array, from: number, to: number, maxLine: number): number;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class FrameReader {
  /** The unterminated rest of the previous chunks (null: none). */
  private carry: Uint8Array | null = null;
  /** Discarding the rest of an overlong frame until its terminator. */
  private dropping = false;
  /** The previous chunk ended in `\r`: a `\n` at the start of the next one belongs to it. */
  private skipLF = false;
  /** A carried rest this long (bytes) has more than `maxChars` characters. */
  private readonly carryLimit: number;

  constructor(
    private readonly maxChars: number,
    private readonly handler: FrameHandler,
    /** Tag bytes of line frames (handed to {@link FrameHandler.lines}). */
    private readonly lineTags: readonly number[] = [],
  ) {
    this.carryLimit = 3 * maxChars + 8;
  }

  /** The next bytes of the stream. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (n > 0 && chunk[0] === 10) i = 1;
    }
    if (this.carry !== null || this.dropping) {
      let t = i;
      while (t < n && chunk[t] !== 10 && chunk[t] !== 13) t++;
      if (t === n) {
        if (!this.dropping) {
          this.carry = concat(this.carry!, chunk.subarray(i));
          this.checkCarry();
        }
        return;
      }
      let after = t + 1;
      if (chunk[t] === 13) {
        if (after < n) {
          if (chunk[after] === 10) after++;
        } else this.skipLF = true;
      }
      if (this.dropping) this.dropping = false;
      else {
        // the frame that straddled the chunks, with its terminator (a line frame stays bytes)
        const piece = concat(this.carry!, chunk.subarray(i, t + 1));
        this.carry = null;
        this.region(piece, 0, piece.length);
      }
      i = after;
    }
    let end = n;
    while (end > i && chunk[end - 1] !== 10 && chunk[end - 1] !== 13) end--;
    if (end > i) {
      this.region(chunk, i, end);
      if (end === n && chunk[n - 1] === 13) this.skipLF = true;
    }
    if (end < n) {
      this.carry = chunk.slice(end);
      this.checkCarry();
    }
  }

  /** End of the stream: a final unterminated frame, if any. */
  end(): void {
    if (this.carry !== null && !this.dropping) {
      const c = this.carry;
      this.carry = null;
      this.emit(c, 0, c.length);
    }
    this.carry = null;
    this.dropping = false;
    this.skipLF = false;
  }

  /** The frames of `b[from, end)`, which ends with a terminator. */
  private region(b: Uint8Array, from: number, end: number): void {
    const lines = this.handler.lines;
    const tags = this.lineTags;
    let i = from;
    while (i < end) {
      if (lines !== undefined && tags.includes(b[i]!)) {
        const stop = lines.call(this.handler, b, i, end, this.maxChars - 1);
        if (stop > i) {
          i = stop;
          continue;
        }
      }
      let t = i;
      while (b[t] !== 10 && b[t] !== 13) t++;
      this.emit(b, i, t);
      i = t + 1;
      if (b[t] === 13 && i < end && b[i] === 10) i++;
    }
  }

  /** One whole frame `b[from, to)` (without its terminator) as a string, cut like LineSplitter. */
  private emit(b: Uint8Array, from: number, to: number): void {
    if (from === to) return; // an empty frame has no tag: nothing reads it
    const f = decodeRange(b, from, to);
    this.handler.frame(f.length > this.maxChars ? f.slice(0, this.maxChars) + LINE_CUT_MARKER : f);
  }

  /** A carried rest that is certainly longer than `maxChars` is cut now, the rest dropped. */
  private checkCarry(): void {
    const c = this.carry!;
    if (c.length <= this.carryLimit) return;
    this.carry = null;
    this.dropping = true;
    this.handler.frame(decodeRange(c, 0, c.length).slice(0, this.maxChars) + LINE_CUT_MARKER);
  }
}
