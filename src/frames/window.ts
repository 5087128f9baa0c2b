/**
 * @module
 * Which lines of a file a frame shows, and how they are printed: one line per source line,
 * `>>>` before the frame's line, the line number right-aligned, two spaces, the text. A scope
 * longer than the window keeps its header line and shows the lines around the frame's line, with
 * a note where lines were left out. Very long lines (minified code) are shortened.
 */

/** Lines shown for a frame, already printed. */
export interface SourceWindow {
  /** The printed block (no trailing newline). */
  text: string;
  /** First and last source line covered (1-based, inclusive; notes stand for the lines between). */
  firstLine: number;
  lastLine: number;
  /** Lines of the range left out between the header and the window, and after the window. */
  hiddenAbove: number;
  hiddenBelow: number;
}

const MARK = ">>>";
const MAX_LINE_CHARS = 400;

function clip(text: string): string {
  const t = text.endsWith("\r") ? text.slice(0, -1) : text;
  if (t.length <= MAX_LINE_CHARS) return t;
  return `${t.slice(0, MAX_LINE_CHARS)} … (${t.length - MAX_LINE_CHARS} more characters)`;
}

function printer(lines: string[], hot: number, width: number) {
  return {
    line: (n: number) =>
      `${n === hot ? MARK : " ".repeat(MARK.length)} ${String(n).padStart(width)}  ${clip(lines[n - 1] ?? "")}`,
    note: (count: number, from: number, to: number) =>
      `${" ".repeat(MARK.length)} ${" ".repeat(width)}  … ${count} line${count === 1 ? "" : "s"} not shown (${from}–${to}) …`,
  };
}

/** `±context` lines around `hot`, clamped to the file. */
export function contextWindow(lines: string[], hot: number, context: number): SourceWindow {
  const first = Math.max(1, hot - context);
  const last = Math.min(lines.length, hot + context);
  const p = printer(lines, hot, String(last).length);
  const out: string[] = [];
  for (let n = first; n <= last; n++) out.push(p.line(n));
  return { text: out.join("\n"), firstLine: first, lastLine: last, hiddenAbove: 0, hiddenBelow: 0 };
}

/**
 * The scope `start..end` around `hot`, at most `budget` printed source lines. When cut, the
 * `header` line stays, then about two thirds of the rest above the hot line and a third below
 * (what led to a failure matters more than what follows it).
 */
export function scopeWindow(
  lines: string[],
  range: { start: number; end: number; header: number },
  hot: number,
  budget: number,
): SourceWindow {
  const { start, end } = range;
  const p = printer(lines, hot, String(end).length);
  const out: string[] = [];
  if (end - start + 1 <= budget) {
    for (let n = start; n <= end; n++) out.push(p.line(n));
    return { text: out.join("\n"), firstLine: start, lastLine: end, hiddenAbove: 0, hiddenBelow: 0 };
  }
  const header = Math.min(Math.max(range.header, start), hot);
  // Lines from `start` through the header are always shown (decorators + signature).
  const fixed = header - start + 1;
  const room = Math.max(1, budget - fixed);
  let lo = hot - Math.floor(((room - 1) * 2) / 3);
  let hi = lo + room - 1;
  if (lo <= header) {
    hi += header + 1 - lo;
    lo = header + 1;
  }
  if (hi > end) {
    lo -= hi - end;
    hi = end;
  }
  lo = Math.max(lo, header + 1);
  for (let n = start; n <= header; n++) out.push(p.line(n));
  const hiddenAbove = lo - header - 1;
  if (hiddenAbove > 0) out.push(p.note(hiddenAbove, header + 1, lo - 1));
  for (let n = lo; n <= hi; n++) out.push(p.line(n));
  const hiddenBelow = end - hi;
  if (hiddenBelow > 0) out.push(p.note(hiddenBelow, hi + 1, end));
  return { text: out.join("\n"), firstLine: start, lastLine: end, hiddenAbove, hiddenBelow };
}
