/**
 * @module
 * The rolling log buffer copied into each incident (`monitor.log_excerpt_lines`), and the collectors
 * that append the lines arriving *after* a failure (`monitor.log_excerpt_after_lines`).
 */

/** A fixed-size ring of the most recent lines. */
export class RingBuffer {
  private readonly buf: string[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<string>(Math.max(0, capacity));
  }

  push(line: string): void {
    if (this.capacity === 0) return;
    this.buf[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Oldest first. */
  toArray(): string[] {
    const out: string[] = [];
    const start = (this.next - this.count + this.capacity) % Math.max(1, this.capacity);
    for (let i = 0; i < this.count; i++) out.push(this.buf[(start + i) % this.capacity]!);
    return out;
  }
}

/** Lines of one child generation gathered after an incident was written. */
export interface AfterCollector {
  incidentId: string;
  generation: number;
  remaining: number;
  lines: string[];
  /** Epoch ms after which it is flushed even if not full. */
  until: number;
}
