/**
 * @module
 * Syntax highlighting of source frames with the tree-sitter grammars the binary already embeds
 * (src/frames/grammars.ts) and the `queries/highlights.scm` files of the same npm packages, embedded
 * as text: one parser for frames and for the viewer, not a second highlighter. TypeScript's query
 * extends JavaScript's (as the grammar's own package.json says), so the two are concatenated.
 *
 * Highlighting is synchronous once a grammar is loaded ({@link prepareLanguages}), so it can run
 * inside markdown-it's `highlight` hook. Output is HTML with every piece of source text escaped; a
 * grammar or query that fails to load falls back to escaped plain text.
 */
import goHl from "tree-sitter-go/queries/highlights.scm" with { type: "text" };
import javaHl from "tree-sitter-java/queries/highlights.scm" with { type: "text" };
import jsHl from "tree-sitter-javascript/queries/highlights.scm" with { type: "text" };
import pythonHl from "tree-sitter-python/queries/highlights.scm" with { type: "text" };
import rustHl from "tree-sitter-rust/queries/highlights.scm" with { type: "text" };
import tsHl from "tree-sitter-typescript/queries/highlights.scm" with { type: "text" };
import { type Language, Parser, Query } from "web-tree-sitter";
import { loadGrammar } from "../frames/grammars.ts";
import { GRAMMAR_IDS, type GrammarId } from "../frames/manifest.ts";
import { escapeHtml } from "./html.ts";

const QUERIES: Record<GrammarId, string[]> = {
  python: [pythonHl],
  javascript: [jsHl],
  typescript: [jsHl, tsHl],
  tsx: [jsHl, tsHl],
  go: [goHl],
  rust: [rustHl],
  java: [javaHl],
};

interface Ready {
  lang: Language;
  query: Query | null;
}

const ready = new Map<GrammarId, Ready | null>();
let parser: Parser | null = null;

/** True when `lang` names an embedded grammar. */
export function isGrammarId(lang: string): lang is GrammarId {
  return (GRAMMAR_IDS as readonly string[]).includes(lang);
}

function compileQuery(lang: Language, id: GrammarId): Query | null {
  const parts = QUERIES[id];
  // The combined query first; when the grammar lacks a node the JavaScript query names, its own alone.
  for (const src of [parts.join("\n"), parts[parts.length - 1]!]) {
    try {
      return new Query(lang, src);
    } catch {
      // try the next
    }
  }
  return null;
}

/** Load the grammars and queries of `langs` (once per process) so {@link highlight} can run synchronously. */
export async function prepareLanguages(langs: Iterable<string>): Promise<void> {
  for (const l of langs) {
    if (!isGrammarId(l) || ready.has(l)) continue;
    try {
      const lang = await loadGrammar(l);
      parser ??= new Parser();
      ready.set(l, { lang, query: compileQuery(lang, l) });
    } catch {
      ready.set(l, null);
    }
  }
}

/** Fenced-code languages used in a Markdown text (```python …). */
export function fenceLanguages(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^ {0,3}(`{3,}|~{3,})\s*([A-Za-z0-9_+-]+)/gm))
    out.add(m[2]!.toLowerCase());
  return out;
}

/** CSS class for a capture name: `function.method` → `hl-function`. */
function cssClass(name: string): string {
  const head = name.split(".")[0]!.replace(/[^a-z_-]/gi, "");
  return `hl-${head}`;
}

/**
 * `code` as HTML with `<span class="hl-…">` around highlighted tokens; null when `lang` is not
 * an embedded grammar or was not prepared (the caller then shows escaped text).
 */
export function highlight(lang: string, code: string): string | null {
  if (!isGrammarId(lang)) return null;
  const r = ready.get(lang);
  if (!r?.query || !parser) return null;
  parser.setLanguage(r.lang);
  const tree = parser.parse(code);
  if (!tree) return null;
  try {
    const byNode = new Map<string, { start: number; end: number; name: string }>();
    for (const c of r.query.captures(tree.rootNode)) {
      const key = `${c.node.startIndex}:${c.node.endIndex}`;
      // These queries list general patterns first (`(identifier) @variable`) and specific ones later:
      // for one node the last matching pattern wins.
      byNode.set(key, { start: c.node.startIndex, end: c.node.endIndex, name: c.name });
    }
    // Outer ranges first, so a token inside a larger capture (an escape inside a string) wins.
    const ranges = [...byNode.values()].sort((a, b) => b.end - b.start - (a.end - a.start));
    const cls: Array<string | null> = new Array(code.length).fill(null);
    for (const g of ranges) {
      const c = cssClass(g.name);
      for (let i = g.start; i < g.end && i < code.length; i++) cls[i] = c;
    }
    let out = "";
    let i = 0;
    while (i < code.length) {
      const c = cls[i];
      let j = i + 1;
      while (j < code.length && cls[j] === c) j++;
      const text = escapeHtml(code.slice(i, j));
      out += c ? `<span class="${c}">${text}</span>` : text;
      i = j;
    }
    return out;
  } finally {
    tree.delete();
  }
}
