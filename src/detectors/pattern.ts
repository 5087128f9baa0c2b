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

export class PatternDetector implements Detector {
  readonly kind = "pattern" as const;
  private lines = new RecentLines(CONTEXT_LINES);
  private shared = false;

  constructor(
    readonly name: string,
    readonly regex: RegExp,
    readonly stream: "any" | "stdout" | "stderr",
    readonly cooldownMs: number,
  ) {}

  observeLine(text: string, stream: Stream, at: number, generation: number): Detection | null {
    if (this.stream !== "any" && stream !== this.stream && stream !== "log") return null;
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    if (!this.regex.test(text)) return null;
    return this.detect(text, at, generation);
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
