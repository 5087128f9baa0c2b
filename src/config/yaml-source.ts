/**
 * @module
 * A parsed YAML config file that remembers where every value came from, so that a problem found
 * in the plain JavaScript value (by zod, the interpolation or a regex compile) can be reported at
 * the line and column the user wrote it.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { ConfigIssue } from "./errors.ts";

type Doc = ReturnType<typeof parseDocument>;

export interface YamlSource {
  /** The file name used in messages. */
  file: string;
  doc: Doc;
  lineCounter: LineCounter;
  /** The document as plain data (`{}` for an empty file); undefined when it could not be parsed. */
  value: unknown;
  /** Syntax errors, duplicate keys and broken aliases. When non-empty, `value` must not be used. */
  issues: ConfigIssue[];
}

/** Parse `text`; every syntax problem is returned as an issue, never thrown. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const src: YamlSource = { file, doc, lineCounter, value: undefined, issues: [] };
  // YAML errors cascade: one badly indented line makes the parser misread every line after it.
  // Only the first syntax error is reported (duplicate keys are independent and all reported).
  let syntaxReported = false;
  for (const err of doc.errors) {
    const pos = err.linePos?.[0] ?? { line: 0, col: 0 };
    let message = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    if (err.code === "DUPLICATE_KEY") {
      const key = findKeyAt(doc, err.pos[0]);
      message = key === undefined ? "duplicate key" : `duplicate key ${JSON.stringify(key)}`;
      src.issues.push({ file, line: pos.line, col: pos.col, path: "", message });
      continue;
    }
    if (syntaxReported) continue;
    syntaxReported = true;
    const misaligned = err.code === "BAD_INDENT" && message.startsWith("All mapping items must start");
    const indent = misaligned ? indentationHint(text, pos.line) : null;
    if (indent) {
      src.issues.push({ file, line: pos.line, col: indent.col, path: "", message: indent.message });
      continue;
    }
    message = `YAML syntax error: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
    src.issues.push({ file, line: pos.line, col: pos.col, path: "", message });
  }
  if (src.issues.length > 0) return src;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        const at = positionOf(src, node.range?.[0]);
        src.issues.push({ file, ...at, path: "", message: `unknown alias *${node.source}` });
      }
    },
  });
  if (src.issues.length > 0) return src;
  try {
    src.value = doc.contents === null ? {} : doc.toJS({ maxAliasCount: 1000 });
    if (src.value === null || src.value === undefined) src.value = {};
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    src.issues.push({ file, line: 0, col: 0, path: "", message: `cannot read YAML: ${message}` });
  }
  return src;
}

/**
 * For a line whose indentation does not fit its block: where its text starts, and a message that
 * compares it with the line above it, which is what a person needs to see the mistake.
 */
function indentationHint(text: string, line: number): { col: number; message: string } | null {
  const lines = text.split("\n");
  const here = lines[line - 1];
  if (here === undefined || here.trim() === "") return null;
  const width = (l: string) => l.length - l.trimStart().length;
  const n = width(here);
  let above = line - 2;
  while (above >= 0 && /^\s*(#.*)?$/.test(lines[above] ?? "")) above--;
  if (above < 0) return null;
  const m = width(lines[above] ?? "");
  const spaces = (k: number) => `${k} space${k === 1 ? "" : "s"}`;
  const parentOpens = /:\s*(#.*)?$/.test(lines[above] ?? "");
  const detail = parentOpens
    ? `this line is indented by ${spaces(n)}; line ${above + 1} opens a block at ${spaces(m)}`
    : `this line is indented by ${spaces(n)}, line ${above + 1} above it by ${spaces(m)}`;
  return {
    col: n + 1,
    message: `YAML syntax error: bad indentation: ${detail} (every key of one mapping must start at the same column)`,
  };
}

function findKeyAt(doc: Doc, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_k, pair) {
      const key = pair.key;
      if (isScalar(key) && key.range?.[0] === offset) {
        found = String(key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function positionOf(src: YamlSource, offset: number | undefined): { line: number; col: number } {
  if (offset === undefined) return { line: 0, col: 0 };
  const p = src.lineCounter.linePos(offset);
  return { line: p.line, col: p.col };
}

/**
 * Where the value at `path` was written. With `key: true`, the position of the last key of the
 * path instead of its value (for unknown keys). A path that does not exist (a missing key) is
 * reported at the nearest existing parent's key.
 */
export function locate(
  src: YamlSource,
  path: readonly PropertyKey[],
  opts: { key?: boolean } = {},
): { line: number; col: number } {
  let node: Node | null | undefined = src.doc.contents as Node | null;
  let keyNode: Node | null = null;
  let matched = 0;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(src.doc) as Node | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) break;
      keyNode = (pair.key as Node | null) ?? null;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      // A missing key inside a list item is reported at the item, not at the list's key.
      keyNode = null;
      node = node.items[seg] as Node | null;
    } else {
      break;
    }
    matched++;
  }
  let target: Node | null | undefined;
  if (matched === path.length) {
    const emptyValue =
      !node || (isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1]);
    target = opts.key || emptyValue ? (keyNode ?? node) : node;
  } else {
    target = keyNode ?? node;
  }
  if (!target?.range) return { line: 1, col: 1 };
  return positionOf(src, target.range[0]);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}
