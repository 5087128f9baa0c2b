/**
 * @module
 * Lazy loading of the embedded tree-sitter runtime and grammars.
 *
 * The runtime `.wasm` is imported statically `with { type: "file" }`, which makes `bun build
 * --compile` embed it and yields its path (`/$bunfs/root/…` inside the binary, `node_modules/…` under
 * `bun test`). The grammars are embedded zstd-compressed by a build-time macro (embed-grammars.ts:
 * 0.5 MB instead of 5.7 MB in the binary) and inflated on first use. Nothing is read or compiled at
 * import time: the runtime is initialised on the first parse of any language and each grammar on the
 * first parse of its own language, then cached for the life of the process. A grammar that fails to
 * load is remembered as failed (its frames fall back to a plain line window) and is not retried.
 */

import { Language, Parser, type Tree } from "web-tree-sitter";
import runtimeWasm from "web-tree-sitter/web-tree-sitter.wasm" with { type: "file" };
import { compressedGrammars } from "./embed-grammars.ts" with { type: "macro" };
import { GRAMMAR_IDS, type GrammarId, MANIFEST } from "./manifest.ts";

/** Language id → base64 of the zstd-compressed grammar (inlined at build time by the macro). */
const COMPRESSED: Readonly<Record<string, string>> = compressedGrammars();

/**
 * Where each wasm comes from: the runtime's embedded path, and for each grammar the file in its npm
 * package (resolved only when running from source; the manifest test checks them).
 */
export const WASM_PATHS: Readonly<Record<GrammarId | "runtime", string>> = {
  runtime: runtimeWasm,
  ...(Object.fromEntries(
    GRAMMAR_IDS.map((id) => {
      const spec = MANIFEST.languages[id];
      let where = `embedded:${spec.package}/${spec.wasm}`;
      if (!runtimeWasm.startsWith("/$bunfs/")) {
        try {
          where = Bun.resolveSync(`${spec.package}/${spec.wasm}`, import.meta.dir);
        } catch {}
      }
      return [id, where];
    }),
  ) as Record<GrammarId, string>),
};

/** The grammar's wasm bytes, inflated from the embedded copy. */
function grammarBytes(id: GrammarId): Uint8Array {
  const b64 = COMPRESSED[id];
  if (b64 === undefined) throw new Error(`Grammar ${id} is not embedded`);
  return Bun.zstdDecompressSync(Buffer.from(b64, "base64"));
}

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
      .then(() => Language.load(grammarBytes(id)))
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
