/**
 * @module
 * Lines in: what the monitor does with each line of its child's output (the `--follow` echo, the
 * rolling excerpt, after-failure collection, the signals that read lines, the detector set, and
 * the detections it makes), for lines as strings ({@link LineIngest.line}, every supervisor) and
 * for lines as bytes ({@link LineIngest.lineBytes}, the local capture process's frames; issue 13,
 * docs/architecture.md "Ingest: the bytes path"). The ingest benchmark (scripts/bench/ingest.ts)
 * drives this class, so it measures the code the monitor runs.
 */
import type { Detection, Stream } from "../core/types.ts";
import { decodeRange, LineBatch, splitLines } from "../util/byte-lines.ts";
import type { DetectorFanout } from "./context.ts";
import type { AfterLines, RingBuffer } from "./excerpt.ts";

/** Stream names by the stream codes of SupervisorSink.lineBytes. */
const STREAM_NAME: Stream[] = ["stdout", "stderr", "log"];

/** What the lines go to (the monitor's context, or a benchmark's stand-ins). */
export interface IngestTargets {
  /** `run --follow`: echo each line (null: off). */
  readonly echo: ((text: string, stream: Stream) => void) | null | undefined;
  readonly excerpt: RingBuffer;
  readonly after: Pick<AfterLines, "active" | "collect">;
  readonly signals: { onLine(text: string): void; readonly wantsLines: boolean };
  readonly detectors: DetectorFanout;
  /** True when lines of `generation` go to the detectors (the current child, not condemned, not finishing). */
  current(generation: number): boolean;
  onDetection(d: Detection): void;
  /** A detection's handling failed (logged; the next lines are read all the same). */
  onError(err: unknown, generation: number): void;
  /** The clock lines are stamped with (default `Date.now`; tests fix it). */
  now?(): number;
}

export class LineIngest {
  /** The lines of one call of {@link lineBytes}. */
  private readonly batch = new LineBatch();

  private readonly now: () => number;

  constructor(private readonly t: IngestTargets) {
    this.now = t.now ?? Date.now;
  }

  /** One line; true when it made detections. */
  line(text: string, stream: Stream, generation: number): boolean {
    const t = this.t;
    t.echo?.(text, stream);
    t.excerpt.push(text);
    if (t.after.active) t.after.collect(text, generation);
    if (!t.current(generation)) return false;
    t.signals.onLine(text);
    const found = t.detectors.observeLine(text, stream, this.now(), generation);
    for (let i = 0; i < found.length; i++) t.onDetection(found[i]!);
    return found.length > 0;
  }

  /**
   * Lines as bytes (SupervisorSink.lineBytes), each taken exactly as {@link line} takes it. The
   * bytes path applies only while nothing needs every line as a string: no `--follow` echo, no
   * after-failure collection, no signal reading lines, and a detector set that has one; then only
   * the lines that may matter are decoded (by the detector set), and the excerpt decodes its
   * newest lines when it is read. Otherwise each line is decoded and goes to {@link line}. Stops
   * after a line that made detections, so that the supervisor checks its own state again (as it
   * does between lines). `bytes` must not change afterwards (the rings read it lazily).
   */
  lineBytes(
    bytes: Uint8Array,
    from: number,
    to: number,
    tags: Int8Array,
    maxLine: number,
    generation: number,
  ): number {
    const t = this.t;
    const det = t.detectors;
    const batch = this.batch;
    const current = t.current(generation);
    if (
      t.echo ||
      t.after.active ||
      t.signals.wantsLines ||
      (current && (det.canObserveBytes !== true || det.observeBytes === undefined))
    ) {
      const stop = splitLines(bytes, from, to, tags, maxLine, batch);
      const n = batch.count;
      if (n === 0) return stop;
      // one decode for the run (the same text as line by line: UTF-8 resynchronises at the ASCII
      // tags and terminators), each line sliced out of it; with a `\r` terminator, line by line
      const run = decodeRange(bytes, from, stop);
      const whole = run.indexOf("\r") === -1;
      let p = 0;
      for (let i = 0; i < n; i++) {
        let text: string;
        if (whole) {
          const nl = run.indexOf("\n", p);
          text = run.slice(p + 1, nl);
          p = nl + 1;
        } else text = batch.text(i);
        let hit = false;
        try {
          hit = this.line(text, STREAM_NAME[batch.stream[i]!]!, generation);
        } catch (err) {
          t.onError(err, generation);
        }
        if (hit) return i + 1 < n ? batch.start[i + 1]! - 1 : stop;
      }
      return stop;
    }
    if (!current) {
      // not the current child's: the excerpt takes them, nothing else (as in line())
      const stop = splitLines(bytes, from, to, tags, maxLine, batch);
      t.excerpt.pushBytes(batch, 0, batch.count);
      return stop;
    }
    const stop = det.observeBytes!(bytes, from, to, tags, maxLine, this.now(), generation, batch);
    t.excerpt.pushBytes(batch, 0, batch.count);
    const found = det.takeFound?.() ?? [];
    try {
      for (let i = 0; i < found.length; i++) t.onDetection(found[i]!);
    } catch (err) {
      t.onError(err, generation);
    }
    return stop;
  }
}
