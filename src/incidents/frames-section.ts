/**
 * @module
 * The frames seam of the incident store: a renderer turns the trace of an incident into the files
 * under `frames/` and the body of report.md's `## Source frames` section. The store redacts and
 * writes whatever a renderer returns; it never looks inside.
 *
 * Two renderers exist. The source renderer (src/frames: enclosing function and class from the
 * embedded tree-sitter grammars, the frame's line marked, git history) is plugged in by the
 * composition root when `source_explode.enabled`. This module's {@link listFrames} is the default
 * and the renderer when source explosion is off: one file per frame with its location, function
 * and trace line, no source.
 */
import * as path from "node:path";
import type { Frame, Trace } from "../core/types.ts";
import { code } from "./markdown.ts";
import { slugify } from "./slug.ts";

/** One file under `frames/`. */
export interface FrameFile {
  /** File name under `frames/`, e.g. `01-train.py.md`. */
  name: string;
  content: string;
}

/** What a renderer returns for one incident. */
export interface RenderedFrames {
  /** Files to write under `frames/`, in order. */
  files: FrameFile[];
  /** Markdown of report.md's `## Source frames` section, without its heading. */
  section: string;
}

export interface FrameRenderInput {
  trace: Trace | undefined;
  /** Directory that relative frame paths are relative to (the child's cwd). */
  cwd: string;
  /** At most this many frames, innermost first. */
  maxFrames: number;
}

/** A renderer of frames (see the module comment). */
export type FrameRenderer = (input: FrameRenderInput) => Promise<RenderedFrames>;

/** The section text when a trace has no frames (or there is no trace). */
export const NO_FRAMES = "*(no stack frames)*";

const EXT_LANG: Record<string, string> = {
  ".py": "python",
  ".js": "javascript",
  ".mjs": "javascript",
  ".cjs": "javascript",
  ".jsx": "javascript",
  ".ts": "typescript",
  ".mts": "typescript",
  ".cts": "typescript",
  ".tsx": "tsx",
  ".go": "go",
  ".rs": "rust",
  ".java": "java",
  ".kt": "kotlin",
  ".scala": "scala",
};

/** The language of a frame's file: from its extension, else the trace's language. */
export function frameLanguage(file: string, trace: Trace): string {
  return EXT_LANG[path.extname(file).toLowerCase()] ?? trace.language;
}

/** The frames of the final exception (the one that ended the program), innermost first. */
export function finalFrames(trace: Trace | undefined): Frame[] {
  const last = trace?.exceptions[trace.exceptions.length - 1];
  return last?.frames ?? [];
}

/** The listing renderer: location, language, function and trace line of each frame; no source. */
export async function listFrames(input: FrameRenderInput): Promise<RenderedFrames> {
  const { trace } = input;
  if (!trace) return { files: [], section: NO_FRAMES };
  const blocks = finalFrames(trace)
    .slice(0, input.maxFrames)
    .map((f, i) => {
      const n = i + 1;
      const location = `${f.file}:${f.line}`;
      const lines = [`**Function:** ${f.function ? code(f.function) : "*(unknown)*"}`];
      if (f.raw.trim() !== "") lines.push("", `Raw: ${code(f.raw.trim())}`);
      return {
        name: `${String(n).padStart(2, "0")}-${slugify(path.basename(f.file), 60, "frame")}.md`,
        title: `Frame ${n} — ${code(location)} (${frameLanguage(f.file, trace)})`,
        body: lines.join("\n"),
      };
    });
  if (blocks.length === 0) return { files: [], section: NO_FRAMES };
  return {
    files: blocks.map((b) => ({ name: b.name, content: `# ${b.title}\n\n${b.body}\n` })),
    section: blocks.map((b) => `### ${b.title}\n\n${b.body}`).join("\n\n"),
  };
}
