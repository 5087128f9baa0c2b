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

/**
 * The open {@link AfterCollector}s: lines of a failed child that arrive after its incident was
 * written are appended to the incident's log_excerpt.txt when the collector is full, its child
 * exited, or it waited long enough.
 */
export class AfterLines {
  private readonly collectors: AfterCollector[] = [];

  constructor(
    private readonly append: (incidentId: string, lines: string[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** True while some collector is open (checked per line, so kept cheap). */
  get active(): boolean {
    return this.collectors.length > 0;
  }

  start(c: AfterCollector): void {
    this.collectors.push(c);
  }

  /** A line of `generation`: every open collector of that child takes it. */
  collect(text: string, generation: number): void {
    for (const c of this.collectors) {
      if (c.generation === generation && c.remaining > 0) {
        c.lines.push(text);
        c.remaining--;
      }
    }
  }

  /** The child of `generation` exited: its collectors are done. */
  closeGeneration(generation: number): void {
    for (const c of this.collectors) if (c.generation === generation) c.until = 0;
    this.flush(false);
  }

  /** Append what full or expired collectors hold (`all`: every collector, at shutdown). */
  flush(all: boolean): void {
    if (this.collectors.length === 0) return;
    const now = Date.now();
    for (let i = this.collectors.length - 1; i >= 0; i--) {
      const c = this.collectors[i]!;
      if (all || c.remaining <= 0 || now >= c.until) {
        this.collectors.splice(i, 1);
        if (c.lines.length > 0) this.append(c.incidentId, c.lines).catch(this.onError);
      }
    }
  }
}
