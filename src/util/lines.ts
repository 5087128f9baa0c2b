/**
 * @module
 * Splitting a stream of text into lines, with a bound on line length.
 *
 * `\n`, `\r\n` and a lone `\r` all end a line, so progress bars that redraw with `\r` produce one
 * line per update. A line longer than `maxLength` is cut: its first `maxLength` characters are
 * emitted with {@link LINE_CUT_MARKER} appended, and the rest of it is dropped as it arrives, so
 * memory stays bounded even for a 50 MB line with no newline.
 */

/** Appended to a line that was cut at the length bound. */
export const LINE_CUT_MARKER = " …[autosentry: line cut, rest dropped]";

export class LineSplitter {
  private pending = "";
  /** Discarding the remainder of an overlong line until its terminator. */
  private dropping = false;
  /** The previous chunk ended in `\r`: a `\n` at the start of the next one belongs to it. */
  private skipLF = false;

  constructor(private readonly maxLength = 65536) {}

  /** Feed decoded text; `emit` is called once per complete line. */
  push(chunk: string, emit: (line: string) => void): void {
    const n = chunk.length;
    let i = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (n > 0 && chunk.charCodeAt(0) === 10) i = 1;
    }
    let nextLF = chunk.indexOf("\n", i);
    let nextCR = chunk.indexOf("\r", i);
    if (nextLF === -1) nextLF = n;
    if (nextCR === -1) nextCR = n;
    while (i < n) {
      if (nextLF < i) {
        nextLF = chunk.indexOf("\n", i);
        if (nextLF === -1) nextLF = n;
      }
      if (nextCR < i) {
        nextCR = chunk.indexOf("\r", i);
        if (nextCR === -1) nextCR = n;
      }
      const end = nextLF < nextCR ? nextLF : nextCR;
      if (end === n) {
        this.addPending(chunk, i, n, emit);
        return;
      }
      let next = end + 1;
      if (end === nextCR) {
        if (next < n) {
          if (chunk.charCodeAt(next) === 10) next++;
        } else {
          this.skipLF = true;
        }
      }
      this.finish(chunk, i, end, emit);
      i = next;
    }
  }

  /** End of stream: emit a final unterminated line, if any. */
  end(emit: (line: string) => void): void {
    if (!this.dropping && this.pending.length > 0) emit(this.pending);
    this.pending = "";
    this.dropping = false;
    this.skipLF = false;
  }

  private finish(chunk: string, from: number, to: number, emit: (line: string) => void): void {
    if (this.dropping) {
      this.dropping = false;
      return;
    }
    let line: string;
    if (this.pending.length > 0) {
      line = this.pending + chunk.slice(from, to);
      this.pending = "";
    } else {
      line = chunk.slice(from, to);
    }
    if (line.length > this.maxLength) emit(line.slice(0, this.maxLength) + LINE_CUT_MARKER);
    else emit(line);
  }

  private addPending(chunk: string, from: number, to: number, emit: (line: string) => void): void {
    if (this.dropping) return;
    const room = this.maxLength - this.pending.length;
    if (to - from <= room) {
      this.pending += chunk.slice(from, to);
      return;
    }
    emit(this.pending + chunk.slice(from, from + room) + LINE_CUT_MARKER);
    this.pending = "";
    this.dropping = true;
  }
}
