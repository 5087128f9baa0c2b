/**
 * @module
 * A set of detectors fed together, with each detector's cooldown applied uniformly: a detection
 * within `cooldownMs` of that detector's previous passed-on detection is dropped (the first one
 * never is). Calls return a shared empty array when nothing fired, so the per-line path allocates
 * nothing.
 *
 * Pattern detectors whose regexes can be joined (no flags, no back-references or named groups), the
 * traceback detectors' trigger and the signature pack's required literals are pre-tested with one
 * combined regex: a line that matches none of them (nearly every line) costs one regex run instead
 * of one per detector, an idle traceback detector is not called at all, and the signature detector
 * sees only the lines that passed (it runs its pack's real trigger on those). Every line is stored
 * once, in a ring of recent lines the detectors share for their context.
 */
import type { ChildExit, Detection, Stream } from "../core/types.ts";
import type { LineBatch } from "../util/byte-lines.ts";
import { type ByteScanHost, ByteScanner } from "./byte-scan.ts";
import { ExitCodeDetector } from "./exit-code.ts";
import { PatternDetector } from "./pattern.ts";
import { preTestSource } from "./required-literals.ts";
import { RecentLines, STREAM_CODE } from "./ring.ts";
import { SignatureDetector } from "./signatures/detector.ts";
import { metricWords, StallDetector } from "./stall.ts";
import { TracebackDetector } from "./traceback/detector.ts";
import { TRACE_TRIGGER } from "./traceback/markers.ts";
import type { Detector } from "./types.ts";

const EMPTY: Detection[] = [];
/** Stream names by {@link STREAM_CODE}. */
const STREAM_NAME: Stream[] = ["stdout", "stderr", "log"];
/** Recent lines kept for the detectors' context (the largest any of them uses). */
const RECENT_LINES = 100;

export interface DetectorSetOptions {
  /** false: pass every detection on (offline scanning, where time means nothing). Default true. */
  applyCooldown?: boolean;
}

export class DetectorSet implements ByteScanHost {
  readonly detectors: readonly Detector[];
  private readonly last: Float64Array;
  private readonly applyCooldown: boolean;
  /** Pattern detectors covered by {@link combined}. */
  private readonly grouped: PatternDetector[];
  private readonly groupedIdx: number[];
  /** Traceback detectors whose trigger is part of {@link combined}. */
  private readonly tracebacks: TracebackDetector[];
  private readonly tracebackIdx: number[];
  /** Signature detectors whose pack's pre-test is part of {@link combined}. */
  private readonly signatures: SignatureDetector[];
  /** Every other detector (including pattern detectors that could not be combined). */
  private readonly rest: Detector[];
  private readonly restIdx: number[];
  private readonly combined: RegExp | null;
  /** The combined pre-test every line runs (null: none); the ingest benchmark gives it to grep. */
  get preTest(): RegExp | null {
    return this.combined;
  }
  private readonly recent = new RecentLines(RECENT_LINES);
  /** The bytes path (null: every line takes the string path; see {@link canObserveBytes}). */
  private readonly scanner: ByteScanner | null;
  /** The stall detector whose metric the scanner reads (null: none). */
  private readonly byteStall: StallDetector | null;
  /** Stall detectors without a metric (any line is progress). */
  private readonly anyLineStalls: StallDetector[];
  /** During {@link observeBytes}: a trace is open, so every line takes the string path. */
  stringOnly = false;
  private scanAt = 0;
  private scanGeneration = 0;
  /** During {@link observeBytes}: the first line of the batch not yet in the ring. */
  private scanFrom = 0;
  private scanFound: Detection[] = EMPTY;

  constructor(detectors: Detector[], options: DetectorSetOptions = {}) {
    this.detectors = detectors;
    for (const d of detectors) d.useRecentLines?.(this.recent);
    this.last = new Float64Array(detectors.length).fill(Number.NEGATIVE_INFINITY);
    this.applyCooldown = options.applyCooldown ?? true;
    const grouped: number[] = [];
    const tracebacks: number[] = [];
    const signatures: number[] = [];
    detectors.forEach((d, i) => {
      if (d.useRecentLines === undefined) return; // keeps per-line state of its own: call it every line
      if (d instanceof PatternDetector && d.regex.flags === "" && combinable(d.regex.source)) grouped.push(i);
      else if (d instanceof TracebackDetector) tracebacks.push(i);
      else if (d instanceof SignatureDetector && d.pack.preTest !== null) signatures.push(i);
    });
    const exact = grouped.map((i) => (detectors[i] as PatternDetector).regex.source);
    if (tracebacks.length > 0) exact.push(TRACE_TRIGGER.source);
    let required = [...new Set(signatures.flatMap((i) => (detectors[i] as SignatureDetector).pack.sources))];
    // one pattern or traceback detector alone gains nothing from the pre-test (the signature
    // detector does: its pre-test is far cheaper than its trigger)
    if (grouped.length + tracebacks.length < 2 && signatures.length === 0) {
      grouped.length = 0;
      tracebacks.length = 0;
      exact.length = 0;
    }
    // One flat alternation of literals where possible (src/detectors/required-literals.ts): exact
    // for the pattern regexes and the trace trigger, the required literals of the signatures. A
    // group around a part, or a literal repeated across parts, makes JavaScriptCore's scan slower.
    let source = exact.length + required.length > 0 ? preTestSource(exact, required) : null;
    if (source === null && required.length > 0) {
      // not with the built-in pack: a signature that cannot be joined leaves the signature detector
      // on its own path (reading the ring on ticks)
      signatures.length = 0;
      required = [];
      source = exact.length > 0 ? preTestSource(exact, []) : null;
    }
    this.combined = source === null ? null : new RegExp(source);
    this.grouped = grouped.map((i) => detectors[i] as PatternDetector);
    this.groupedIdx = grouped;
    this.tracebacks = tracebacks.map((i) => detectors[i] as TracebackDetector);
    this.tracebackIdx = tracebacks;
    this.signatures = signatures.map((i) => detectors[i] as SignatureDetector);
    for (const sig of this.signatures) sig.feedCandidates();
    const inGroup = new Set([...grouped, ...tracebacks]);
    // an exit-code or signature detector sharing the ring has nothing to do per line (the
    // signature detector gets the lines that pass the pre-test, or reads the ring on ticks)
    detectors.forEach((d, i) => {
      if ((d instanceof ExitCodeDetector || d instanceof SignatureDetector) && d.useRecentLines !== undefined)
        inGroup.add(i);
    });
    this.rest = detectors.filter((_, i) => !inGroup.has(i));
    this.restIdx = detectors.map((_, i) => i).filter((i) => !inGroup.has(i));
    // The bytes path covers what the string path runs on a line that fails the pre-test while no
    // trace is open: the rest detectors must be stall detectors whose metric it reads (one at
    // most) or that count any line. Anything else keeps the string path for every line.
    let byteStall: StallDetector | null = null;
    let words: string[] = [];
    const anyLine: StallDetector[] = [];
    let bytesOk = this.rest.every((d) => d instanceof StallDetector);
    for (const d of this.rest as StallDetector[]) {
      if (!bytesOk) break;
      if (d.metric === null) anyLine.push(d);
      else {
        const w = metricWords(d.metric);
        if (w === null || byteStall !== null) bytesOk = false;
        else {
          byteStall = d;
          words = w;
        }
      }
    }
    this.scanner = bytesOk ? ByteScanner.build(this.combined, words) : null;
    this.byteStall = byteStall;
    this.anyLineStalls = anyLine;
  }

  /** True when {@link observeBytes} can be used (else feed every line to {@link observeLine}). */
  get canObserveBytes(): boolean {
    return this.scanner !== null;
  }

  /**
   * The lines of `bytes[from, to)` (each a tag byte, its text and `\n`, `\r` or `\r\n`; `tags` maps a
   * tag to its stream code, -1 for bytes that do not start a line), observed exactly as
   * {@link observeLine} would observe each of them, all at `at`. Stops before a line that does
   * not start with a line tag, is longer than `maxLine` bytes or is unterminated, and after the
   * first line that made detections ({@link takeFound}). Returns where it stopped; `batch` holds
   * the lines taken. Only when {@link canObserveBytes}.
   */
  observeBytes(
    bytes: Uint8Array,
    from: number,
    to: number,
    tags: Int8Array,
    maxLine: number,
    at: number,
    generation: number,
    batch: LineBatch,
  ): number {
    const scanner = this.scanner;
    if (scanner === null) throw new Error("DetectorSet.observeBytes: this set has no bytes path");
    this.scanAt = at;
    this.scanGeneration = generation;
    this.scanFrom = 0;
    this.scanFound = EMPTY;
    this.stringOnly = this.traceOpen();
    const stop = scanner.scan(bytes, from, to, tags, maxLine, batch, this);
    this.recent.pushBytes(batch, this.scanFrom, batch.count);
    if (batch.count > 0) for (const d of this.anyLineStalls) d.anyLine(at);
    return stop;
  }

  /** The detections of the line {@link observeBytes} stopped after (empty when none). */
  takeFound(): Detection[] {
    const f = this.scanFound;
    this.scanFound = EMPTY;
    return f;
  }

  /** {@link ByteScanHost}: a line of {@link observeBytes} that takes the string path. */
  slowLine(batch: LineBatch, i: number): boolean {
    this.recent.pushBytes(batch, this.scanFrom, i);
    this.scanFrom = i + 1;
    const found = this.observeLine(
      batch.text(i),
      STREAM_NAME[batch.stream[i]!]!,
      this.scanAt,
      this.scanGeneration,
    );
    this.stringOnly = this.traceOpen();
    if (found.length === 0) return false;
    this.scanFound = found;
    return true;
  }

  /** {@link ByteScanHost}: the stall metric's match on a line that took the bytes path. */
  progress(v: number, bytes: Uint8Array, from: number, to: number): void {
    this.byteStall?.progressBytes(v, bytes, from, to, this.scanAt);
  }

  private traceOpen(): boolean {
    const tbs = this.tracebacks;
    for (let i = 0; i < tbs.length; i++) if (!tbs[i]!.idle) return true;
    return false;
  }

  /** One line of output. */
  observeLine(text: string, stream: Stream, at: number, generation: number): Detection[] {
    let out: Detection[] | null = null;
    this.recent.push(text, STREAM_CODE[stream]);
    if (this.combined !== null) {
      const hit = this.combined.test(text);
      if (hit) {
        const grouped = this.grouped;
        for (let i = 0; i < grouped.length; i++) {
          const d = grouped[i]!.observeLine(text, stream, at, generation);
          if (d !== null) out = this.pass(this.groupedIdx[i]!, d, out);
        }
        const sigs = this.signatures;
        for (let i = 0; i < sigs.length; i++) sigs[i]!.candidate(text);
      }
      const tbs = this.tracebacks;
      for (let i = 0; i < tbs.length; i++) {
        const tb = tbs[i]!;
        if (!hit && tb.idle) continue;
        const d = tb.observeLine(text, stream, at, generation);
        if (d !== null) out = this.pass(this.tracebackIdx[i]!, d, out);
      }
    }
    const rest = this.rest;
    for (let i = 0; i < rest.length; i++) {
      const d = rest[i]!.observeLine(text, stream, at, generation);
      if (d !== null) out = this.pass(this.restIdx[i]!, d, out);
    }
    return out ?? EMPTY;
  }

  /** The child ended (call after its last line and after {@link flush}). */
  observeExit(exit: ChildExit): Detection[] {
    let out: Detection[] | null = null;
    for (let i = 0; i < this.detectors.length; i++) {
      const det = this.detectors[i]!;
      if (det.observeExit === undefined) continue;
      const d = det.observeExit(exit);
      if (d !== null) out = this.pass(i, d, out);
      out = this.drain(i, out);
    }
    return out ?? EMPTY;
  }

  /** Clock tick, about once a second. */
  observeTick(now: number, childAlive: boolean, generation: number): Detection[] {
    let out: Detection[] | null = null;
    for (let i = 0; i < this.detectors.length; i++) {
      const det = this.detectors[i]!;
      if (det.observeTick === undefined) continue;
      const d = det.observeTick(now, childAlive, generation);
      if (d !== null) out = this.pass(i, d, out);
      out = this.drain(i, out);
    }
    return out ?? EMPTY;
  }

  /**
   * Let detectors that read the shared ring look at the lines that arrived since their last look
   * (the signature detector). The offline scanner calls it every few dozen lines; the monitor's
   * ticks do the same.
   */
  poll(at: number, generation: number): Detection[] {
    let out: Detection[] | null = null;
    for (let i = 0; i < this.detectors.length; i++) {
      const det = this.detectors[i]!;
      if (det.poll === undefined) continue;
      const d = det.poll(at, generation);
      if (d !== null) out = this.pass(i, d, out);
      out = this.drain(i, out);
    }
    return out ?? EMPTY;
  }

  /** The child's output ended: close open traces. */
  flush(at: number, generation: number): Detection[] {
    let out: Detection[] | null = null;
    for (let i = 0; i < this.detectors.length; i++) {
      const det = this.detectors[i]!;
      if (det.flush === undefined) continue;
      const d = det.flush(at, generation);
      if (d !== null) out = this.pass(i, d, out);
      out = this.drain(i, out);
    }
    return out ?? EMPTY;
  }

  /** Lines of the current child observed so far: the numbering of a detection's `meta.line_no`. */
  linesSeen(): number {
    return this.recent.count;
  }

  /** A new child was started. Cooldowns carry over (they are about the failure, not the child). */
  onChildStart(generation: number, at: number): void {
    this.recent.clear();
    // Cooldowns are per child: a restarted child's first OOM must reach the rule that halves the
    // batch again, even seconds after the previous child's. Crash loops are bounded by the restart
    // policy (backoff, identical failures, max_restarts), not by hiding detections.
    this.last.fill(Number.NEGATIVE_INFINITY);
    for (const d of this.detectors) d.onChildStart?.(generation, at);
  }

  private pass(i: number, d: Detection, out: Detection[] | null): Detection[] | null {
    if (this.applyCooldown) {
      const det = this.detectors[i]!;
      if (d.at - this.last[i]! < det.cooldownMs) return this.drain(i, out);
      this.last[i] = d.at;
    }
    const o = out ?? [];
    o.push(d);
    return this.drain(i, o);
  }

  private drain(i: number, out: Detection[] | null): Detection[] | null {
    const det = this.detectors[i]!;
    if (det.takePending === undefined) return out;
    let o = out;
    for (let d = det.takePending(); d !== null; d = det.takePending()) {
      if (this.applyCooldown) {
        if (d.at - this.last[i]! < det.cooldownMs) continue;
        this.last[i] = d.at;
      }
      o ??= [];
      o.push(d);
    }
    return o;
  }
}

/** A regex source that can be joined into an alternation without changing what it matches. */
function combinable(source: string): boolean {
  return !/\\[1-9]|\\k<|\(\?<(?![=!])/.test(source);
}
