/**
 * @module
 * The frames of an incident: one `frames/NN-<slug(basename)>.md` file per stack frame of the final
 * exception, innermost first, and the same blocks under `## Source frames` in report.md.
 *
 * This version lists each frame (location, language, function, the trace line). Rendering the
 * source around each frame (tree-sitter, `source_explode`) replaces {@link renderFrames} without
 * touching the store or the report: both only see {@link RenderedFrame}s.
 */
import * as path from "node:path";
import type { Frame, Trace } from "../core/types.ts";
import { code } from "./markdown.ts";
import { slugify } from "./slug.ts";

/** One frame, ready to be written as a file and embedded in report.md. */
export interface RenderedFrame {
  /** File name under `frames/`, e.g. `01-train.py.md`. */
  file: string;
  /** Heading text without the `#`s: ``Frame 1 — `train.py:42` (python)``. */
  title: string;
  /** Markdown under the heading (no heading of its own). */
  body: string;
}

export interface FrameRenderInput {
  trace: Trace | undefined;
  /** Directory that relative frame paths are relative to (the child's cwd). */
  cwd: string;
  /** At most this many frames, innermost first. */
  maxFrames: number;
}

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

/** Render the frames of `input.trace`; async so that a renderer that reads source files fits the same seam. */
export async function renderFrames(input: FrameRenderInput): Promise<RenderedFrame[]> {
  const { trace } = input;
  if (!trace) return [];
  return finalFrames(trace)
    .slice(0, input.maxFrames)
    .map((f, i) => {
      const n = i + 1;
      const location = `${f.file}:${f.line}`;
      const lines = [`**Function:** ${f.function ? code(f.function) : "*(unknown)*"}`];
      if (f.raw.trim() !== "") lines.push("", `Raw: ${code(f.raw.trim())}`);
      return {
        file: `${String(n).padStart(2, "0")}-${slugify(path.basename(f.file), 60, "frame")}.md`,
        title: `Frame ${n} — ${code(location)} (${frameLanguage(f.file, trace)})`,
        body: lines.join("\n"),
      };
    });
}

/** The content of `frames/<file>`. */
export function frameFileText(frame: RenderedFrame): string {
  return `# ${frame.title}\n\n${frame.body}\n`;
}
