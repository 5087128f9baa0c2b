/**
 * @module
 * The values source-frame explosion produces and the renderers read.
 */
import type { Frame } from "../core/types.ts";
import type { GitHistory } from "./git-history.ts";
import type { GrammarId } from "./manifest.ts";
import type { Scope } from "./scope.ts";
import type { SourceWindow } from "./window.ts";

/**
 * - `rendered`: source shown (scope or plain window);
 * - `skipped`: listed with its reason (library code, `node:` internal, not on disk, …); does not
 *   count against `max_frames`;
 * - `omitted`: after `max_frames` frames were rendered; nothing was read for it.
 */
export type FrameStatus = "rendered" | "skipped" | "omitted";

export interface ExplodedFrame {
  /** Position in the final exception's frames, 0 = innermost. */
  index: number;
  /** The frame as the trace gave it. */
  frame: Frame;
  /** Path shown to a reader: relative to the child's cwd when inside it, else absolute or as written. */
  displayPath: string;
  /** Absolute path of the source file, when it was found. */
  path: string | null;
  /** Grammar chosen by the file's extension; null when none applies. */
  language: GrammarId | null;
  /** Info string for the fenced code block (`python`, `c`, `text`, …). */
  fence: string;
  status: FrameStatus;
  /** Why the frame was skipped or omitted; null when rendered. */
  reason: string | null;
  /** The enclosing function/class; null when the plain line window was used. */
  scope: Scope | null;
  /** Why a plain ±context_lines window was shown instead of a scope; null when a scope was found. */
  fallback: string | null;
  source: SourceWindow | null;
  /** Last commits and uncommitted state of the file; null when untracked or not asked for. */
  git: GitHistory | null;
}

export interface ExplodeOptions {
  /** The child's working directory: relative frame paths resolve here. */
  cwd: string;
  /** Substrings marking library or vendored paths (`source_explode.skip_paths`). */
  skipPaths: string[];
  /** Frames rendered at most (skipped frames do not count). */
  maxFrames: number;
  /** Lines either side of the frame's line when no scope applies. */
  contextLines: number;
  /** A longer scope is cut to this many lines around the frame's line. */
  scopeWindowLines: number;
  /** Languages parsed with tree-sitter (`source_explode.languages`); others get a plain window. */
  languages: readonly string[];
  /** Look up git history for each rendered file (default true). */
  git?: boolean;
}
