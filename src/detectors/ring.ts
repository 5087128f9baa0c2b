/**
 * @module
 * Recent lines: a fixed-size ring of the last lines (and their streams). Storing a line is two array
 * writes; arrays are only built when a detection is made. A {@link DetectorSet} keeps one ring for
 * all its detectors (each line stored once, not once per detector); a detector used on its own
 * keeps its own.
 */
import type { Stream } from "../core/types.ts";
import { type LineBatch, PendingLines } from "../util/byte-lines.ts";

export const STREAM_CODE: Record<Stream, number> = { stdout: 0, stderr: 1, log: 2 };

export class RecentLines {
  private readonly text: string[];
  private readonly streams: Uint8Array;
  private pos = 0;
  private fill = 0;
  /** Lines stored since the last {@link clear} (the current line's 1-based number). */
  count = 0;
  /** Lines of the bytes path counted but not decoded yet (decoded when the ring is read). */
  private readonly pending: PendingLines;

  constructor(readonly size: number) {
    this.text = new Array<string>(size).fill("");
    this.streams = new Uint8Array(size);
    this.pending = new PendingLines(size);
  }

  push(line: string, stream: number): void {
    if (this.pending.any) this.decodePending();
    this.store(line, stream);
    this.count++;
  }

  /** Lines [from, to) of `batch` arrive (counted now, decoded when read). */
  pushBytes(batch: LineBatch, from: number, to: number): void {
    if (to <= from) return;
    this.count += to - from;
    this.pending.add(batch, from, to);
  }

  private decodePending(): void {
    this.pending.drain((text, stream) => this.store(text, stream));
  }

  private store(line: string, stream: number): void {
    const p = this.pos;
    this.text[p] = line;
    this.streams[p] = stream;
    this.pos = p + 1 === this.size ? 0 : p + 1;
    if (this.fill < this.size) this.fill++;
  }

  /** How many lines are stored. */
  get length(): number {
    if (this.pending.any) this.decodePending();
    return this.fill;
  }

  /** The line `back` lines before the newest (0 = newest); `undefined` past the stored ones. */
  lineAt(back: number): string | undefined {
    if (this.pending.any) this.decodePending();
    if (back >= this.fill) return undefined;
    return this.text[(this.pos - 1 - back + 2 * this.size) % this.size];
  }

  /** The stream code of {@link lineAt}. */
  streamAt(back: number): number {
    if (this.pending.any) this.decodePending();
    return this.streams[(this.pos - 1 - back + 2 * this.size) % this.size]!;
  }

  /**
   * The last `max` lines, oldest first; with `only`, just the lines of that stream code (and of
   * `log`, which has no stream).
   */
  recent(max: number, only: number | null = null): string[] {
    if (this.pending.any) this.decodePending();
    const out: string[] = [];
    for (let back = 0; back < this.fill && out.length < max; back++) {
      if (only !== null) {
        const s = this.streamAt(back);
        if (s !== only && s !== STREAM_CODE.log) continue;
      }
      out.push(this.lineAt(back)!);
    }
    return out.reverse();
  }

  clear(): void {
    this.pending.clear();
    this.fill = 0;
    this.pos = 0;
    this.count = 0;
  }
}
