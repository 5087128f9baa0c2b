/**
 * @module
 * The rolling log buffer copied into each incident (`monitor.log_excerpt_lines`), and the collectors
 * that append the lines arriving *after* a failure (`monitor.log_excerpt_after_lines`).
 */
import { type LineBatch, PendingLines } from "../util/byte-lines.ts";

/**
 * A fixed-size ring of the most recent lines. Lines of the bytes ingest path arrive as byte ranges
 * ({@link pushBytes}) and are decoded only when the ring is read (at most `capacity` of them).
 */
export class RingBuffer {
  private readonly buf: string[];
  private next = 0;
  private count = 0;
  /** Lines pushed ever: the sequence number of the newest line (the first line is 1). */
  total = 0;
  private readonly pending: PendingLines;

  constructor(readonly capacity: number) {
    this.buf = new Array<string>(Math.max(0, capacity));
    this.pending = new PendingLines(Math.max(0, capacity));
  }

  push(line: string): void {
    if (this.pending.any) this.decodePending();
    this.total++;
    this.store(line);
  }

  /** Lines [from, to) of `batch` arrive (counted now, decoded when read). */
  pushBytes(batch: LineBatch, from: number, to: number): void {
    if (to <= from) return;
    this.total += to - from;
    this.pending.add(batch, from, to);
  }

  private decodePending(): void {
    this.pending.drain((text) => this.store(text));
  }

  private store(line: string): void {
    if (this.capacity === 0) return;
    this.buf[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Oldest first. */
  toArray(): string[] {
    if (this.pending.any) this.decodePending();
    const out: string[] = [];
    const start = (this.next - this.count + this.capacity) % Math.max(1, this.capacity);
    for (let i = 0; i < this.count; i++) out.push(this.buf[(start + i) % this.capacity]!);
    return out;
  }

  /** The lines after sequence number `seq` that are still held, oldest first. */
  since(seq: number): string[] {
    if (this.pending.any) this.decodePending();
    const n = Math.max(0, Math.min(this.count, this.total - seq));
    return n === 0 ? [] : this.toArray().slice(this.count - n);
  }
}

/**
 * The rolling excerpt cut at a failure line: `before` ends with it (a copy taken when the failure
 * was detected: the lines that follow can push it out of the ring before the incident is written),
 * `seq` is its sequence number in the ring (the lines after it are {@link RingBuffer.since}).
 */
export interface FailureCut {
  before: string[];
  seq: number;
}

/**
 * Cut the excerpt at the failure line, `behind` lines before the newest one: a detection made
 * after more lines arrived (a trace closed by the next line, a crash line found on a tick inside a
 * burst) must not show those lines as "before the failure". When they pushed the failure line out
 * of the ring, `context` (the detector's lines up to it) stands in for the excerpt.
 */
export function cutAtFailure(ring: RingBuffer, behind: number, context: string[]): FailureCut {
  const all = ring.toArray();
  const keep = all.length - behind;
  return { before: keep > 0 ? all.slice(0, keep) : behind > 0 ? [...context] : [], seq: ring.total - behind };
}

/**
 * How many lines of its child arrived after the detection's failure line: `linesSeen` is the
 * detector set's count for the current child, `meta.end_line_no` (a trace's last line) or
 * `meta.line_no` the failure line's number in that count. 0 when the detection names no line (it
 * was made on the failure line itself, or is about the exit, a stall, a sample).
 */
export function linesAfterFailure(meta: Record<string, unknown>, linesSeen: number): number {
  const no = typeof meta.end_line_no === "number" ? meta.end_line_no : meta.line_no;
  return typeof no === "number" && no > 0 && no <= linesSeen ? linesSeen - no : 0;
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
