/**
 * @module
 * The pattern detector: a regex searched in every line (optionally of one stream only). Its
 * message is the line itself (trimmed; a longer line is cut to {@link MESSAGE_MAX} characters
 * around the match, with `…`), because the line (`… Tried to allocate 2.00 GiB …`) is what a person
 * needs in `incidents list`, notifications and the report; the Python tool's `pattern matched:
 * <match>` said only what the regex already said. Meta: `match` (≤200 chars), `line` (the whole
 * line, ≤500 chars) and `group1`…`groupN` for the capture groups that took part in the match.
 *
 * Lines read back from a file (`log`) have no stream, so a stream filter lets them through.
 */
import type { Detection, Stream } from "../core/types.ts";
import { RecentLines, STREAM_CODE } from "./ring.ts";
import type { Detector } from "./types.ts";

const CONTEXT_LINES = 50;
/** The longest message; a longer line keeps the part around its match. */
export const MESSAGE_MAX = 300;

/** The line as a message: trimmed, and cut around the match when it is long. */
export function lineMessage(line: string, matchIndex: number): string {
  const lead = line.length - line.trimStart().length;
  const text = line.trim();
  if (text.length <= MESSAGE_MAX) return text;
  const at = Math.max(0, matchIndex - lead);
  const start = Math.max(0, Math.min(at - 100, text.length - MESSAGE_MAX));
  const end = start + MESSAGE_MAX;
  return `${start > 0 ? "…" : ""}${text.slice(start, end)}${end < text.length ? "…" : ""}`;
}

/**
 * Run-time bound on user regexes (issue 16, finding 5). JavaScript regexes cannot be interrupted,
 * so the static check at config load (src/config/regex-safety.ts) refuses the exponential shapes,
 * and here a match that still takes longer than {@link SLOW_MATCH_MS} halves the part of each line
 * this detector searches, said on stderr; a pattern still slow on fewer than {@link MIN_WINDOW}
 * characters is disabled (loudly). The cost falls with the window, so ingestion catches up.
 */
export const SLOW_MATCH_MS = 50;
export const MIN_WINDOW = 8;

export class PatternDetector implements Detector {
  readonly kind = "pattern" as const;
  private lines = new RecentLines(CONTEXT_LINES);
  private shared = false;
  /** How many characters of a line the regex searches (shrinks after slow matches). */
  window = Number.POSITIVE_INFINITY;

  constructor(
    readonly name: string,
    readonly regex: RegExp,
    readonly stream: "any" | "stdout" | "stderr",
    readonly cooldownMs: number,
    /** The clock that times matches (tests simulate a descheduled process with it). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  observeLine(text: string, stream: Stream, at: number, generation: number): Detection | null {
    if (this.stream !== "any" && stream !== this.stream && stream !== "log") return null;
    if (this.window === 0) return null;
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    const subject = text.length > this.window ? text.slice(0, this.window) : text;
    const t0 = this.now();
    const hit = this.regex.test(subject);
    let took = this.now() - t0;
    if (took > SLOW_MATCH_MS) {
      // Wall time also counts the time this process waited for a CPU: on a loaded machine a cheap
      // match can take 100 ms. Shrinking then cut short lines to 8 characters and the pattern
      // stopped matching (the flood chaos scenario lost half its planted failure lines): only a
      // match that is slow again is the regex's fault.
      const t1 = this.now();
      this.regex.test(subject);
      took = Math.min(took, this.now() - t1);
      if (took > SLOW_MATCH_MS) this.slowed(took, subject.length);
    }
    if (!hit) return null;
    return this.detect(subject, at, generation);
  }

  private slowed(took: number, length: number): void {
    const first = this.window === Number.POSITIVE_INFINITY;
    let next = Math.floor(length / 2);
    if (next < MIN_WINDOW) next = 0; // still slow on a few characters: the pattern is hopeless
    if (next >= this.window) return;
    this.window = next;
    const what =
      next === 0
        ? "it is now disabled (it cannot keep up even with short lines)"
        : `it now searches the first ${next} characters of each line`;
    if (first || next === 0) {
      try {
        process.stderr.write(
          `[WARN] pattern detector '${this.name}': /${this.regex.source}/ took ${Math.round(took)} ms on one line; ${what} (rewrite the regex to avoid nested or repeated wildcards)\n`,
        );
      } catch {}
    }
  }

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  onChildStart(): void {
    if (!this.shared) this.lines.clear();
  }

  private detect(text: string, at: number, generation: number): Detection {
    this.regex.lastIndex = 0;
    const m = this.regex.exec(text)!;
    const meta: Detection["meta"] = {
      match: m[0].slice(0, 200),
      line: text.length > 500 ? text.slice(0, 500) : text,
    };
    for (let i = 1; i < m.length; i++) {
      const g = m[i];
      if (g !== undefined) meta[`group${i}`] = g;
    }
    const only = this.shared && this.stream !== "any" ? STREAM_CODE[this.stream] : null;
    return {
      detector: this.name,
      detectorKind: "pattern",
      kind: "error",
      message: lineMessage(text, m.index),
      context: this.lines.recent(CONTEXT_LINES, only),
      meta,
      at,
      generation,
    };
  }
}
