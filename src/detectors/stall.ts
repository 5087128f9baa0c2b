/**
 * @module
 * The stall detector. With a `metric_regex`, progress is group 1 (or the whole match) read as a
 * number that must go beyond the highest value seen for the current child (equal or lower does not
 * count; a value that is not a number counts when it differs from the last one). Without one, any
 * line is progress. It fires only while the child is alive, after `no_progress_seconds` without
 * progress, and then only again after another full period; a new child starts everything over.
 */
import type { Detection, Stream } from "../core/types.ts";
import { decodeRange } from "../util/byte-lines.ts";
import { RecentLines, STREAM_CODE } from "./ring.ts";
import type { Detector } from "./types.ts";

const CONTEXT_LINES = 50;

/**
 * A metric regex whose only capture group is a trailing `(\d+)` (`(?:step|iter)\s+(\d+)`, the
 * default) is read without building a match: with the `g` flag, `test` leaves `lastIndex` at the
 * end of the match, and the digits are read backwards from there. Any other regex uses `exec`.
 */
function trailingDigitsRegex(re: RegExp): RegExp | null {
  const src = re.source;
  if (!src.endsWith("(\\d+)") || hasTopLevelAlternation(src)) return null;
  // what comes before the digits must not match a digit itself, or the group could start later
  const before = src.slice(0, -5);
  if (!/(?:\\s[+*?]?| [+*?]?|[=:]|(?:^|[^\\])[A-Za-z])$/.test(before)) return null;
  const groups = (new RegExp(`${re.source}|`, re.flags).exec("")?.length ?? 1) - 1;
  if (groups !== 1) return null;
  return new RegExp(re.source, `${re.flags.replace(/[gy]/g, "")}g`);
}

/**
 * The words of a metric regex the bytes path reads itself: `(?:w1|w2)\s+(\d+)` or `w\s+(\d+)`
 * without flags, each word of at least 3 ASCII letters, digits or `_` (src/detectors/byte-scan.ts).
 * Null for any other regex (the set then takes the string path).
 */
export function metricWords(re: RegExp): string[] | null {
  if (re.flags.replace(/[gy]/g, "") !== "") return null;
  const m = /^(?:\(\?:([A-Za-z0-9_|]+)\)|([A-Za-z0-9_]+))\\s\+\(\\d\+\)$/.exec(re.source);
  if (m === null) return null;
  const words = (m[1] ?? m[2]!).split("|");
  return words.every((w) => w.length >= 3) ? words : null;
}

/** True when `src` has a `|` outside every group (and outside character classes). */
function hasTopLevelAlternation(src: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}

export class StallDetector implements Detector {
  readonly kind = "stall" as const;
  private lines = new RecentLines(CONTEXT_LINES);
  private shared = false;
  /** When progress was last seen (null: no child start or tick seen yet). */
  private progressAt: number | null = null;
  /** When the clock was last restarted (progress or a firing). */
  private clockAt: number | null = null;
  private best = Number.NEGATIVE_INFINITY;
  private lastValue: string | null = null;
  /** Fast path: the line and span of the last progress value, turned into a string only when needed. */
  private lastLine: string | null = null;
  private lastStart = 0;
  private lastEnd = 0;
  /** Bytes path: the chunk holding the last progress value's digits (decoded only when needed). */
  private lastBytes: Uint8Array | null = null;
  private readonly digits: RegExp | null;

  constructor(
    readonly name: string,
    readonly metric: RegExp | null,
    readonly noProgressMs: number,
    readonly cooldownMs: number,
  ) {
    this.digits = metric === null ? null : trailingDigitsRegex(metric);
  }

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  observeLine(text: string, stream: Stream, at: number, _generation: number): Detection | null {
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    const re = this.metric;
    if (re === null) {
      this.progressAt = at;
      this.clockAt = at;
      return null;
    }
    const fast = this.digits;
    if (fast !== null) {
      fast.lastIndex = 0;
      if (!fast.test(text)) return null;
      const end = fast.lastIndex;
      let i = end;
      let v = 0;
      while (i > 0) {
        const c = text.charCodeAt(i - 1);
        if (c < 48 || c > 57) break;
        i--;
      }
      if (end - i > 15) v = Number(text.slice(i, end));
      else for (let k = i; k < end; k++) v = v * 10 + (text.charCodeAt(k) - 48);
      if (v <= this.best) return null;
      this.best = v;
      this.lastBytes = null;
      this.lastLine = text;
      this.lastStart = i;
      this.lastEnd = end;
      this.progressAt = at;
      this.clockAt = at;
      return null;
    }
    const m = re.exec(text);
    if (m === null) return null;
    const raw = m[1] ?? m[0];
    const v = Number(raw);
    if (raw !== "" && !Number.isNaN(v)) {
      if (v <= this.best) return null;
      this.best = v;
    } else if (raw === this.lastValue) {
      return null;
    }
    this.lastValue = raw;
    this.lastBytes = null;
    this.lastLine = null;
    this.progressAt = at;
    this.clockAt = at;
    return null;
  }

  /**
   * The bytes path read this line's first metric match itself ({@link metricWords}): the step
   * number `v`, its digits at `bytes[from, to)`. Same effect as {@link observeLine} on that line.
   */
  progressBytes(v: number, bytes: Uint8Array, from: number, to: number, at: number): void {
    if (v <= this.best) return;
    this.best = v;
    this.lastLine = null;
    this.lastBytes = bytes;
    this.lastStart = from;
    this.lastEnd = to;
    this.progressAt = at;
    this.clockAt = at;
  }

  /** The bytes path saw lines while the metric is null (any line is progress). */
  anyLine(at: number): void {
    this.progressAt = at;
    this.clockAt = at;
  }

  /** What the detector knows about progress (tests compare the string and bytes paths with it). */
  progressState(): { best: number; value: string | null; progressAt: number | null; clockAt: number | null } {
    return { best: this.best, value: this.value(), progressAt: this.progressAt, clockAt: this.clockAt };
  }

  private value(): string | null {
    if (this.lastBytes !== null) {
      this.lastValue = decodeRange(this.lastBytes, this.lastStart, this.lastEnd);
      this.lastBytes = null;
    }
    if (this.lastLine !== null) {
      this.lastValue = this.lastLine.slice(this.lastStart, this.lastEnd);
      this.lastLine = null;
    }
    return this.lastValue;
  }

  observeTick(now: number, childAlive: boolean, generation: number): Detection | null {
    if (this.clockAt === null || this.progressAt === null) {
      // no child start was seen: the clock starts now
      this.clockAt = now;
      this.progressAt = now;
      return null;
    }
    if (!childAlive || now - this.clockAt < this.noProgressMs) return null;
    this.clockAt = now;
    const elapsed = Math.round((now - this.progressAt) / 1000);
    const value = this.value();
    const message =
      this.metric === null
        ? `stall: no output for ${elapsed}s`
        : `stall: no progress for ${elapsed}s (value='${value ?? ""}')`;
    return {
      detector: this.name,
      detectorKind: "stall",
      kind: "anomaly",
      message,
      context: this.lines.recent(CONTEXT_LINES),
      meta: { elapsed_seconds: elapsed, last_value: value },
      at: now,
      generation,
    };
  }

  onChildStart(_generation: number, at: number): void {
    if (!this.shared) this.lines.clear();
    this.progressAt = at;
    this.clockAt = at;
    this.best = Number.NEGATIVE_INFINITY;
    this.lastValue = null;
    this.lastLine = null;
    this.lastBytes = null;
  }
}
