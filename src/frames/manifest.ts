/**
 * @module
 * The grammar manifest (`grammars/manifest.json`): per language the npm package and wasm file it
 * is embedded from, the file extensions it covers, and the node types that count as an enclosing
 * function or class. Also the mapping from a file name to its language and code-fence name.
 */
import manifestJson from "../../grammars/manifest.json" with { type: "json" };

/** The languages source frames can parse (the values of `source_explode.languages`). */
export type GrammarId = "python" | "javascript" | "typescript" | "tsx" | "go" | "rust" | "java";

export const GRAMMAR_IDS: readonly GrammarId[] = [
  "python",
  "javascript",
  "typescript",
  "tsx",
  "go",
  "rust",
  "java",
];

export interface GrammarSpec {
  package: string;
  version: string;
  wasm: string;
  extensions: string[];
  /** Node types of an enclosing function-like scope. */
  functions: string[];
  /** Node types of a class-like container. */
  classes: string[];
  /** Function types without a name of their own (lambdas, closures, arrow functions). */
  anonymous: string[];
  /** Parent types rendered together with the function (Python's decorated_definition). */
  wrappers: string[];
  /** Parent node type → field that names an anonymous function assigned to it. */
  nameFromParent: Record<string, string>;
  /** Node type → field holding its name, when that is not `name` (Rust impl → `type`). */
  nameFields: Record<string, string>;
  /** Method node type → field whose first type_identifier names the class (Go receivers). */
  receivers: Record<string, string>;
}

export interface Manifest {
  runtime: { package: string; version: string; wasm: string };
  languages: Record<GrammarId, GrammarSpec>;
}

export const MANIFEST: Manifest = manifestJson as Manifest;

const BY_EXTENSION = new Map<string, GrammarId>();
for (const id of GRAMMAR_IDS) {
  for (const ext of MANIFEST.languages[id].extensions) BY_EXTENSION.set(ext, id);
}

/** Code-fence names for common languages that have no grammar here. */
const FENCE_BY_EXTENSION: Record<string, string> = {
  ".c": "c",
  ".h": "c",
  ".cc": "cpp",
  ".cpp": "cpp",
  ".cxx": "cpp",
  ".hpp": "cpp",
  ".cu": "cuda",
  ".pyx": "cython",
  ".pxd": "cython",
  ".kt": "kotlin",
  ".scala": "scala",
  ".rb": "ruby",
  ".sh": "bash",
  ".swift": "swift",
  ".cs": "csharp",
  ".php": "php",
  ".lua": "lua",
  ".zig": "zig",
};

/** Lower-case extension including the dot (`.py`), or "" for none. */
export function extensionOf(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot).toLowerCase();
}

/** The grammar for a file, from its extension; null when none applies (`.pyx`, `.c`, no extension). */
export function grammarForFile(file: string): GrammarId | null {
  return BY_EXTENSION.get(extensionOf(file)) ?? null;
}

/** The info string for a fenced code block showing this file. */
export function fenceLanguage(file: string): string {
  const id = grammarForFile(file);
  if (id !== null) return id;
  return FENCE_BY_EXTENSION[extensionOf(file)] ?? "text";
}
