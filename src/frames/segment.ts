/**
 * @module
 * The top-level declaration around a line, found from the text alone, so that a large file need
 * not be parsed whole (tree-sitter in WASM costs about 5 µs a line: 50 ms for a 10 000-line
 * module). In conventionally formatted code a top-level declaration starts at column 0 with a
 * keyword (`def`/`class`/`@decorator`, `function`/`class`/`export`, `func`/`type`, `fn`/`impl`/
 * `#[attr]`); the segment runs from the nearest such line at or above the frame's line to the line
 * before the next one. The caller parses only that segment and falls back to the whole file when
 * the segment parses with errors or yields no scope, so a wrong guess costs time, not correctness.
 *
 * Java is not segmented: a file is usually one top-level class.
 */
import type { GrammarId } from "./manifest.ts";

/** Files shorter than this are always parsed whole. */
export const SEGMENT_MIN_LINES = 400;

const JS_DECL =
  /^(?:export\s+(?:default\s+)?)?(?:declare\s+)?(?:async\s+)?(?:function\b|class\b|abstract\s+class\b|const\b|let\b|var\b|interface\b|type\b|enum\b|namespace\b|module\b)/;

/** Column-0 lines that start a top-level declaration; `prefix` lines (decorators) belong to the next one. */
const DECL: Partial<Record<GrammarId, { start: RegExp; prefix?: RegExp }>> = {
  python: { start: /^(?:async\s+def|def|class)\b/, prefix: /^@/ },
  javascript: { start: JS_DECL, prefix: /^@/ },
  typescript: { start: JS_DECL, prefix: /^@/ },
  tsx: { start: JS_DECL, prefix: /^@/ },
  go: { start: /^(?:func|type|var|const)\b/, prefix: /^\/\// },
  rust: {
    start:
      /^(?:pub(?:\([^)]*\))?\s+)?(?:(?:async|unsafe|const|default)\s+|extern\s+"[^"]*"\s+)*(?:fn|impl|struct|enum|trait|mod|static|type|union|macro_rules!)\b/,
    prefix: /^(?:#\[|#!\[|\/\/\/)/,
  },
};

/** 1-based inclusive line range of the declaration around `hot`; null = parse the whole file. */
export function topLevelSegment(
  lines: string[],
  hot: number,
  language: GrammarId,
): { start: number; end: number } | null {
  const decl = DECL[language];
  if (decl === undefined || lines.length < SEGMENT_MIN_LINES) return null;
  let start = 0;
  for (let n = hot; n >= 1; n--) {
    if (decl.start.test(lines[n - 1]!)) {
      start = n;
      break;
    }
  }
  if (start === 0) return null;
  while (start > 1 && decl.prefix?.test(lines[start - 2]!)) start--;
  let end = lines.length;
  for (let n = hot + 1; n <= lines.length; n++) {
    if (decl.start.test(lines[n - 1]!)) {
      end = n - 1;
      while (end > hot && decl.prefix?.test(lines[end - 1]!)) end--;
      break;
    }
  }
  // Not worth it when the segment is most of the file.
  if ((end - start + 1) * 2 > lines.length) return null;
  return { start, end };
}
