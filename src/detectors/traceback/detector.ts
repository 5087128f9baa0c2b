/**
 * @module
 * The traceback detector: finds stack traces of Python, Node, Go, Rust and Java in the output,
 * whatever log prefixes are in front of them, and reports each as one detection whose message is
 * the final exception (`KeyError: 'batch_size'`), with the parsed {@link Trace} attached.
 *
 * Hot path: a line that cannot start a trace, while no trace is open, costs a few substring
 * searches ({@link mayStartTrace}) and one ring-buffer store. Everything else (prefix parsing,
 * per-source state) happens only on the rare lines that may matter.
 *
 * Each source (a stream plus the rank/task/service label of the line's prefix) has its own open
 * trace, so ranks that print their traces line-interleaved are parsed separately. An open trace
 * ends when a line of its source does not belong to it, after {@link QUIET_MS} without a line of
 * its source (on a tick), at {@link MAX_TRACE_LINES} lines, or on {@link TracebackDetector.flush}.
 */
import type { Detection, Stream } from "../../core/types.ts";
import { frameText, projectFrame } from "../project-frame.ts";
import { RecentLines, STREAM_CODE } from "../ring.ts";
import type { SignaturePack } from "../signatures/pack-set.ts";
import type { Detector } from "../types.ts";
import { CppTrace } from "./cpp.ts";
import { GoTrace } from "./go.ts";
import { JAVA_FRAME, JavaTrace } from "./java.ts";
import { GO_HEADER, isPythonChainMarker, mayStartTrace } from "./markers.ts";
import { NodeTrace } from "./node.ts";
import { type PrefixResult, parsePrefix } from "./prefix.ts";
import { PythonTrace } from "./python.ts";
import { RustTrace } from "./rust.ts";
import { DONE, isBlank, TAKE, type TraceParser } from "./types.ts";

/** A header-less SyntaxError or a partial trace starts with a location line (any indentation). */
const PY_LOCATION_START = /^\s*File "/;
/** `panic: ` / `fatal error: ` printed mid-line (after a spinner or a progress bar). */
const GO_MIDLINE = /(?:panic|fatal error): /;
/**
 * A tqdm / progress-bar line, or the bar in front of a line glued to it (`… 1.91it/s]  File "…"`):
 * progress output interleaved with a trace is not part of it.
 */
const PROGRESS = /^.*?(?:\d%\|[^|]*\|[^\]]*\]|(?:it\/s|s\/it)(?:, [^\]]*)?\])/;
/** An open trace closes after this long without a line of its source (checked on ticks). */
export const QUIET_MS = 1000;
/** A trace is cut (and reported) at this many lines. */
export const MAX_TRACE_LINES = 1000;
/** Recent lines kept: the detection's context, and the look-back for Node/Java error lines. */
const RING = 100;
/** Lines looked back over (of the same source) when a frame line opens a trace. */
const LOOKBACK = 24;
/** More open traces than this at once are not started (bounded memory under garbage input). */
const MAX_OPEN = 256;
/** Closed traces remembered for {@link TracebackDetector.covers}. */
const MAX_RANGES = 64;
/** Longest detection message. */
const MAX_MESSAGE = 1000;

interface OpenTrace {
  parser: TraceParser;
  key: string;
  source: string;
  residual: string;
  firstLineNo: number;
  lastLineNo: number;
  lastAt: number;
  generation: number;
  /** Record-prefix bits the trace's own lines carry; a line with more starts a new log record. */
  bodyRecord: number;
  /**
   * The level the trace's own lines carry (`""`: none). A line of another level is another record
   * (a logger that prefixes every line gives all lines of one record the same level); passed to
   * the parser, which decides what that ends (Python: the exception's message).
   */
  bodyLevel: string;
  fed: number;
}

export class TracebackDetector implements Detector {
  readonly kind = "traceback" as const;
  private lines = new RecentLines(RING);
  private shared = false;
  private readonly open = new Map<string, OpenTrace>();
  private readonly pending: Detection[] = [];
  private readonly scratch: PrefixResult = { key: "", text: "", record: 0, level: "", labelled: false };
  /** Line ranges (first, last; pairs) of the traces closed recently, for {@link covers}. */
  private readonly ranges: number[] = [];

  constructor(
    readonly name: string,
    readonly cooldownMs: number,
    /** Names detections after the signature pack (null: the pack is off). */
    readonly pack: SignaturePack | null = null,
  ) {}

  observeLine(text: string, stream: Stream, at: number, generation: number): Detection | null {
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    if (this.open.size === 0 && !mayStartTrace(text)) return null;
    return this.slowPath(text, stream, at, generation, this.lines.count);
  }

  /**
   * True when no trace is open. A {@link DetectorSet} that shares its recent lines need not call
   * {@link observeLine} at all for an idle detector and a line that fails `TRACE_TRIGGER`.
   */
  get idle(): boolean {
    return this.open.size === 0;
  }

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  observeTick(now: number, _childAlive: boolean, _generation: number): Detection | null {
    if (this.open.size === 0) return this.takePending();
    for (const [k, st] of this.open) {
      if (now - st.lastAt >= QUIET_MS) {
        this.open.delete(k);
        const d = this.close(st);
        if (d) this.pending.push(d);
      }
    }
    return this.takePending();
  }

  flush(_at: number, _generation: number): Detection | null {
    for (const st of this.open.values()) {
      const d = this.close(st);
      if (d) this.pending.push(d);
    }
    this.open.clear();
    return this.takePending();
  }

  /**
   * True when line `lineNo` (the shared ring's count) belongs to a trace, closed recently or still
   * open. The signature detector skips such lines: the trace's own detection is named after the
   * signature already, and one failure should not be reported twice.
   */
  covers(lineNo: number): boolean {
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) if (lineNo >= r[i]! && lineNo <= r[i + 1]!) return true;
    for (const st of this.open.values()) if (lineNo >= st.firstLineNo && lineNo <= st.lastLineNo) return true;
    return false;
  }

  onChildStart(_generation: number, _at: number): void {
    this.ranges.length = 0;
    this.open.clear();
    this.pending.length = 0;
    if (!this.shared) this.lines.clear();
  }

  /** Detections produced beyond the one a call returned (several traces closing on one tick). */
  takePending(): Detection | null {
    return this.pending.length > 0 ? this.pending.shift()! : null;
  }

  /** True while a trace is open (tests and the monitor's settle logic may ask). */
  get hasOpenTrace(): boolean {
    return this.open.size > 0;
  }

  private slowPath(
    raw: string,
    stream: Stream,
    at: number,
    generation: number,
    no: number,
  ): Detection | null {
    let p = parsePrefix(raw, true, this.scratch);
    let key = `${STREAM_CODE[stream]}${p.key}`;
    let st = this.open.get(key);
    if (p.labelled && st === undefined) {
      // `   3: path::fn` is a Rust backtrace frame, not an srun task label, while a Rust trace is open
      const q = parsePrefix(raw, false);
      const k2 = `${STREAM_CODE[stream]}${q.key}`;
      const st2 = this.open.get(k2);
      if (st2 !== undefined && st2.parser.lang === "rust") {
        p = q;
        key = k2;
        st = st2;
      }
    }
    const source = p.key;
    let text = p.text;
    const record = p.record;
    const level = p.level;
    let result: Detection | null = null;
    if (st !== undefined) {
      // progress bars interleaved with (or glued in front of) the trace's lines are skipped
      const bar = PROGRESS.exec(text);
      if (bar !== null) {
        text = text.slice(bar[0].length);
        if (isBlank(text)) return null;
      }
      let t = text;
      if (st.residual !== "" && t.startsWith(st.residual)) t = t.slice(st.residual.length);
      if (st.fed++ === 0) {
        st.bodyRecord &= record;
        if (level === "") st.bodyLevel = ""; // only the first line had a level: the body has none
      }
      const otherLevel = level !== "" && st.bodyLevel !== "" && level !== st.bodyLevel;
      const r = st.parser.feed(t, (record & ~st.bodyRecord) !== 0, otherLevel);
      if (r === TAKE || r === DONE) {
        st.lastAt = at;
        st.lastLineNo = no;
        if (r === TAKE && st.parser.lines.length < MAX_TRACE_LINES) return null;
        this.open.delete(key);
        return this.close(st);
      }
      this.open.delete(key);
      result = this.close(st);
    }
    if (this.open.size < MAX_OPEN)
      this.tryStart(text, record, level, key, source, stream, at, generation, no);
    return result;
  }

  private tryStart(
    t: string,
    record: number,
    level: string,
    key: string,
    source: string,
    stream: Stream,
    at: number,
    generation: number,
    no: number,
  ): void {
    let parser: TraceParser | null = null;
    let residual = "";
    let taken = 0;
    if (t.indexOf("Traceback (") !== -1 || PY_LOCATION_START.test(t)) {
      const s = PythonTrace.start(t);
      if (s) {
        parser = s.parser;
        residual = s.residual;
      } else {
        const bar = PROGRESS.exec(t);
        const s2 = bar !== null ? PythonTrace.start(t.slice(bar[0].length)) : null;
        if (s2) parser = s2.parser;
      }
    } else if (t.indexOf("Fatal Python error: ") !== -1) {
      parser = PythonTrace.startFatal(t);
    } else if (t.indexOf("terminate called") !== -1) {
      parser = CppTrace.start(t);
    } else if (t.indexOf("above exception") !== -1 && isPythonChainMarker(t)) {
      const earlier = this.earlier(key, stream, 4);
      let k = earlier.length - 1;
      while (k >= 0 && isBlank(earlier[k]!)) k--;
      if (k >= 0) {
        parser = PythonTrace.fromChainMarker(earlier[k]!, t);
        taken = earlier.length - k;
      }
    } else if (GO_HEADER.test(t)) {
      parser = GoTrace.start(t);
    } else if (GO_MIDLINE.test(t) && !t.includes("panicked at")) {
      const i = t.search(GO_MIDLINE);
      parser = GoTrace.start(t.slice(i));
    } else if (t.indexOf("panicked at") !== -1) {
      // the lines before say whether it is a passing should-panic test's (cargo test's harness)
      const s = RustTrace.start(t, this.earlier(key, stream, LOOKBACK));
      if (s) {
        parser = s.parser;
        residual = s.residual;
      }
    } else if (t.indexOf("Exception in thread") !== -1) {
      const s = JavaTrace.start(t);
      if (s) {
        parser = s.parser;
        residual = s.residual;
      }
    } else if (t.startsWith("[UnhandledPromise")) {
      parser = NodeTrace.startLegacy(t);
    } else if (t.indexOf("at ") !== -1) {
      if (JAVA_FRAME.test(t)) {
        const s = JavaTrace.fromFrame(t, this.earlier(key, stream, LOOKBACK));
        if (s) {
          parser = s.parser;
          taken = s.taken;
        }
      } else if (NodeTrace.isLocatedFrame(t)) {
        const s = NodeTrace.fromFrame(t, this.earlier(key, stream, LOOKBACK));
        if (s) {
          parser = s.parser;
          taken = s.taken;
        }
      }
    }
    if (parser === null) return;
    this.open.set(key, {
      parser,
      key,
      source,
      residual,
      firstLineNo: no - taken,
      lastLineNo: no,
      lastAt: at,
      generation,
      bodyRecord: record,
      bodyLevel: level,
      fed: taken > 0 ? 1 : 0,
    });
  }

  /** The last `max` lines before the current one from the same source, prefixes removed, oldest first. */
  private earlier(key: string, stream: Stream, max: number): string[] {
    const out: string[] = [];
    const code = STREAM_CODE[stream];
    const r: PrefixResult = { key: "", text: "", record: 0, level: "", labelled: false };
    const lines = this.lines;
    for (let back = 1; back < lines.length && out.length < max; back++) {
      if (lines.streamAt(back) !== code) continue;
      parsePrefix(lines.lineAt(back)!, true, r);
      if (`${code}${r.key}` === key) out.push(r.text);
    }
    return out.reverse();
  }

  private close(st: OpenTrace): Detection | null {
    const parsed = st.parser.finish();
    if (parsed === null) return null;
    this.ranges.push(st.firstLineNo, st.lastLineNo);
    if (this.ranges.length > MAX_RANGES * 2) this.ranges.splice(0, 2);
    const message =
      parsed.headline.length > MAX_MESSAGE ? `${parsed.headline.slice(0, MAX_MESSAGE)}…` : parsed.headline;
    const d: Detection = {
      detector: this.name,
      detectorKind: "traceback",
      kind: "error",
      message,
      exceptionType: parsed.exceptionType ?? undefined,
      trace: { language: st.parser.lang, text: st.parser.lines.join("\n"), exceptions: parsed.exceptions },
      context: this.context(),
      meta: {
        lang: st.parser.lang,
        line_no: st.firstLineNo,
        end_line_no: st.lastLineNo,
        source: st.source === "" ? null : st.source,
      },
      at: st.lastAt,
      generation: st.generation,
    };
    // where to look first, for the report and the agent's prompt (they read meta, not the trace)
    const project = projectFrame(d);
    if (project !== null) d.meta["project_frame"] = frameText(project);
    // the trace's first line names some failures (`terminate called after throwing …`)
    return this.pack === null ? d : this.pack.annotate(d, st.parser.lines[0] ?? "");
  }

  private context(): string[] {
    return this.lines.recent(RING);
  }
}
