/**
 * @module
 * Lazy loading of the embedded tree-sitter runtime and grammars.
 *
 * Each `.wasm` is imported statically `with { type: "file" }`, which makes `bun build --compile`
 * embed it and yields its path (`/$bunfs/root/…` inside the binary, `node_modules/…` under
 * `bun test`). Nothing is read or compiled at import time: the runtime is initialised on the first
 * parse of any language and each grammar on the first parse of its own language, then cached for
 * the life of the process. A grammar that fails to load is remembered as failed (its frames fall
 * back to a plain line window) and is not retried.
 */

import goWasm from "tree-sitter-go/tree-sitter-go.wasm" with { type: "file" };
import javaWasm from "tree-sitter-java/tree-sitter-java.wasm" with { type: "file" };
import javascriptWasm from "tree-sitter-javascript/tree-sitter-javascript.wasm" with { type: "file" };
import pythonWasm from "tree-sitter-python/tree-sitter-python.wasm" with { type: "file" };
import rustWasm from "tree-sitter-rust/tree-sitter-rust.wasm" with { type: "file" };
import tsxWasm from "tree-sitter-typescript/tree-sitter-tsx.wasm" with { type: "file" };
import typescriptWasm from "tree-sitter-typescript/tree-sitter-typescript.wasm" with { type: "file" };
import { Language, Parser, type Tree } from "web-tree-sitter";
import runtimeWasm from "web-tree-sitter/web-tree-sitter.wasm" with { type: "file" };
import type { GrammarId } from "./manifest.ts";

/** Where each embedded wasm lives (the manifest test checks these against grammars/manifest.json). */
export const WASM_PATHS: Readonly<Record<GrammarId | "runtime", string>> = {
  runtime: runtimeWasm,
  python: pythonWasm,
  javascript: javascriptWasm,
  typescript: typescriptWasm,
  tsx: tsxWasm,
  go: goWasm,
  rust: rustWasm,
  java: javaWasm,
};

let runtime: Promise<Parser> | null = null;
const languages = new Map<GrammarId, Promise<Language>>();
const loaded = new Set<GrammarId>();

function initRuntime(): Promise<Parser> {
  runtime ??= Parser.init({ locateFile: () => WASM_PATHS.runtime } as Parameters<typeof Parser.init>[0]).then(
    () => new Parser(),
  );
  return runtime;
}

/** The grammar for `id`, loading the runtime and the grammar on first use. Rejects if either fails. */
export function loadGrammar(id: GrammarId): Promise<Language> {
  let p = languages.get(id);
  if (p === undefined) {
    p = initRuntime()
      .then(() => Language.load(WASM_PATHS[id]))
      .then((lang) => {
        loaded.add(id);
        return lang;
      });
    languages.set(id, p);
  }
  return p;
}

/**
 * Parse `text` as `id`. The caller owns the tree and must `delete()` it. Setting the language and
 * parsing happen in one synchronous step, so concurrent callers can share the one parser.
 */
export async function parseSource(id: GrammarId, text: string): Promise<Tree> {
  const lang = await loadGrammar(id);
  const parser = await initRuntime();
  parser.setLanguage(lang);
  const tree = parser.parse(text);
  if (tree === null) throw new Error(`tree-sitter returned no tree for ${id}`);
  return tree;
}

/** Grammars loaded so far in this process (for the benchmark and diagnostics). */
export function loadedGrammars(): GrammarId[] {
  return [...loaded];
}
