/**
 * @module
 * A fixed-size ring of recent lines: a detector's bounded context. Storing a line is one array
 * write; the array is only materialised when a detection is made.
 */

export class LineRing {
  private readonly buf: string[];
  private pos = 0;
  private fill = 0;

  constructor(private readonly size: number) {
    this.buf = new Array<string>(size).fill("");
  }

  push(line: string): void {
    const p = this.pos;
    this.buf[p] = line;
    this.pos = p + 1 === this.size ? 0 : p + 1;
    if (this.fill < this.size) this.fill++;
  }

  /** The stored lines, oldest first. */
  toArray(): string[] {
    const n = this.fill;
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.buf[(this.pos - n + i + this.size) % this.size]!;
    return out;
  }

  clear(): void {
    this.fill = 0;
    this.pos = 0;
  }
}
