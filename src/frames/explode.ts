/**
 * @module
 * Source frames for an incident: for each frame of the trace's final exception (innermost first),
 * the enclosing function and class from the embedded tree-sitter grammars, rendered with line
 * numbers and the frame's line marked; a plain ±context_lines window where no grammar applies or
 * parsing fails; git history of the file. Library, internal and missing frames are listed with the
 * reason and do not count against `maxFrames`.
 *
 * Each file is read and parsed once per call however many frames point into it; trees are freed
 * before returning. Grammars load on the first frame of their language (see grammars.ts).
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Tree } from "web-tree-sitter";
import type { Frame, Trace } from "../core/types.ts";
import { gitHistories } from "./git-history.ts";
import { parseSource } from "./grammars.ts";
import { extensionOf, fenceLanguage, type GrammarId, grammarForFile, MANIFEST } from "./manifest.ts";
import { resolveFrame } from "./resolve.ts";
import { findScope, type Scope } from "./scope.ts";
import { topLevelSegment } from "./segment.ts";
import type { ExplodedFrame, ExplodeOptions } from "./types.ts";
import { contextWindow, scopeWindow } from "./window.ts";

const MAX_READ_BYTES = 8 * 1024 * 1024;
const MAX_PARSE_BYTES = 1024 * 1024;

interface SourceFile {
  lines: string[];
  text: string;
  language: GrammarId | null;
  /** Why the file is not parsed (no grammar, language off, too large); null when it can be. */
  noTree: string | null;
  /** Parsed trees by segment (`start-end`, or `all` for the whole file). */
  trees: Map<string, Promise<Tree>>;
}

type Loaded = { ok: true; file: SourceFile } | { ok: false; reason: string };

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** A file without an extension may still say what it is on its first line. */
function languageFromShebang(firstLine: string): GrammarId | null {
  if (!firstLine.startsWith("#!")) return null;
  if (/\bpython[0-9.]*\b/.test(firstLine)) return "python";
  if (/\bnode\b/.test(firstLine)) return "javascript";
  return null;
}

async function loadFile(file: string, opts: ExplodeOptions): Promise<Loaded> {
  let text: string;
  try {
    const st = await fs.stat(file);
    if (st.size > MAX_READ_BYTES) return { ok: false, reason: `file too large (${mb(st.size)} MB)` };
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    return { ok: false, reason: `unreadable: ${(e as Error).message}` };
  }
  if (text.slice(0, 8000).includes("\u0000")) return { ok: false, reason: "not a text file" };
  const lines = text.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const ext = extensionOf(file);
  const language = grammarForFile(file) ?? (ext === "" ? languageFromShebang(lines[0] ?? "") : null);
  const src: SourceFile = { lines, text, language, noTree: null, trees: new Map() };
  if (language === null) {
    src.noTree = `no grammar for ${ext === "" ? "files without an extension" : `${ext} files`}`;
  } else if (!opts.languages.includes(language)) {
    src.noTree = `${language} is not in source_explode.languages`;
  } else if (text.length > MAX_PARSE_BYTES) {
    src.noTree = `file too large to parse (${mb(text.length)} MB)`;
  }
  return { ok: true, file: src };
}

/** Relative to the child's cwd when inside it; `file://` URLs as paths; anything else as written. */
function displayPathOf(written: string, cwd: string): string {
  let p = written;
  if (p.startsWith("file:")) {
    try {
      p = fileURLToPath(p);
    } catch {
      return written;
    }
  }
  if (!path.isAbsolute(p)) return p;
  const rel = path.relative(cwd, p);
  return rel.length > 0 && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

function blank(index: number, frame: Frame, cwd: string): ExplodedFrame {
  return {
    index,
    frame,
    displayPath: displayPathOf(frame.file, cwd),
    path: null,
    language: grammarForFile(frame.file),
    fence: fenceLanguage(frame.file),
    status: "skipped",
    reason: null,
    scope: null,
    fallback: null,
    source: null,
    git: null,
  };
}

function treeFor(src: SourceFile, seg: { start: number; end: number } | null): Promise<Tree> {
  const key = seg === null ? "all" : `${seg.start}-${seg.end}`;
  let tree = src.trees.get(key);
  if (tree === undefined) {
    const text = seg === null ? src.text : src.lines.slice(seg.start - 1, seg.end).join("\n");
    tree = parseSource(src.language!, text);
    src.trees.set(key, tree);
  }
  return tree;
}

/**
 * The scope around `line`: from the top-level segment when the file is large and the segment
 * parses cleanly (see segment.ts), else from the whole file.
 */
async function scopeOf(src: SourceFile, line: number): Promise<Scope | null> {
  const spec = MANIFEST.languages[src.language!];
  const lineText = src.lines[line - 1] ?? "";
  const seg = topLevelSegment(src.lines, line, src.language!);
  if (seg !== null) {
    const tree = await treeFor(src, seg);
    if (!tree.rootNode.hasError) {
      const scope = findScope(tree.rootNode, line - seg.start + 1, lineText, spec);
      if (scope !== null) {
        const shift = seg.start - 1;
        return {
          ...scope,
          startLine: scope.startLine + shift,
          endLine: scope.endLine + shift,
          headerLine: scope.headerLine + shift,
        };
      }
    }
  }
  const tree = await treeFor(src, null);
  return findScope(tree.rootNode, line, lineText, spec);
}

async function renderSource(
  out: ExplodedFrame,
  src: SourceFile,
  line: number,
  opts: ExplodeOptions,
): Promise<void> {
  if (src.noTree === null) {
    let scope: Scope | null = null;
    let failed: string | null = null;
    try {
      scope = await scopeOf(src, line);
    } catch (e) {
      failed = `tree-sitter failed: ${(e as Error).message}`;
    }
    if (scope !== null) {
      out.scope = scope;
      out.source = scopeWindow(
        src.lines,
        { start: scope.startLine, end: Math.min(scope.endLine, src.lines.length), header: scope.headerLine },
        line,
        opts.scopeWindowLines,
      );
      return;
    }
    out.fallback = failed ?? "top-level code (no enclosing function or class)";
  } else {
    out.fallback = src.noTree;
  }
  out.source = contextWindow(src.lines, line, opts.contextLines);
}

/** Explode the frames of `trace`'s final exception. See the module comment. */
export async function explodeFrames(trace: Trace, opts: ExplodeOptions): Promise<ExplodedFrame[]> {
  const final = trace.exceptions[trace.exceptions.length - 1];
  if (final === undefined) return [];
  const files = new Map<string, Promise<Loaded>>();
  const out: ExplodedFrame[] = [];
  let rendered = 0;
  try {
    for (const [index, frame] of final.frames.entries()) {
      const ef = blank(index, frame, opts.cwd);
      out.push(ef);
      if (rendered >= opts.maxFrames) {
        ef.status = "omitted";
        ef.reason = `max_frames (${opts.maxFrames}) reached`;
        continue;
      }
      const res = resolveFrame(frame, opts.cwd, opts.skipPaths);
      if (!res.ok) {
        ef.reason = res.reason;
        continue;
      }
      ef.path = res.path;
      ef.displayPath = displayPathOf(res.path, opts.cwd);
      let pending = files.get(res.path);
      if (pending === undefined) {
        pending = loadFile(res.path, opts);
        files.set(res.path, pending);
      }
      const loaded = await pending;
      if (!loaded.ok) {
        ef.reason = loaded.reason;
        continue;
      }
      const src = loaded.file;
      ef.language = src.language;
      if (src.language !== null) ef.fence = src.language;
      if (!Number.isInteger(frame.line) || frame.line < 1) {
        ef.reason = `no usable line number (${frame.line})`;
        continue;
      }
      if (frame.line > src.lines.length) {
        ef.reason = `line ${frame.line} is past the end of the file (${src.lines.length} lines): changed since the trace?`;
        continue;
      }
      await renderSource(ef, src, frame.line, opts);
      ef.status = "rendered";
      rendered++;
    }
    if (opts.git !== false) {
      const paths = [...new Set(out.filter((f) => f.status === "rendered").map((f) => f.path!))];
      const histories = await gitHistories(paths);
      for (const f of out) if (f.status === "rendered") f.git = histories.get(f.path!) ?? null;
    }
  } finally {
    for (const pending of files.values()) {
      const loaded = await pending;
      if (!loaded.ok) continue;
      for (const tree of loaded.file.trees.values()) {
        await tree.then(
          (t) => t.delete(),
          () => {},
        );
      }
    }
  }
  return out;
}
