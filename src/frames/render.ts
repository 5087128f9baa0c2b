/**
 * @module
 * Markdown for exploded frames: one file per frame (`frames/NN-<slug>.md`) and the body of the
 * report's "Source frames" section. Pure functions of the {@link ExplodedFrame}s: no I/O, no clock.
 *
 * A rendered frame shows where it is (`method _check of class Trainer, lines 40–46`, or why a plain
 * window was used), the trace line it came from, git history, and the source in a fenced block
 * whose fence is longer than any backtick run inside. Skipped frames are one line with their
 * reason; long runs of skipped frames with the same reason are shortened; frames past
 * `max_frames` are summarised in one line.
 */
import type { ExplodedFrame } from "./types.ts";

/** A backtick fence longer than any run of backticks in `text` (at least three). */
function fenceFor(text: string): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return "`".repeat(Math.max(3, longest + 1));
}

/** `text` as inline code, safe whatever backticks it contains. */
function code(text: string): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const ticks = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

/** Folder-safe name from a path's basename: runs outside `[A-Za-z0-9._-]` → `-`, at most 60. */
export function slug(file: string): string {
  const base =
    file
      .split(/[\\/]/)
      .filter((s) => s.length > 0)
      .pop() ?? "";
  const s = base
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+|-+$/g, "")
    .slice(0, 60);
  return s.length > 0 ? s : "frame";
}

/** `frames/` file name of a frame: `03-train.py.md`. `width` pads the number (default 2). */
export function frameFileName(frame: ExplodedFrame, i: number = frame.index, width = 2): string {
  return `${String(i + 1).padStart(width, "0")}-${slug(frame.displayPath)}.md`;
}

function heading(frame: ExplodedFrame, i: number): string {
  const lang = frame.language ?? frame.fence;
  return `Frame ${i + 1} — ${code(`${frame.displayPath}:${frame.frame.line}`)} (${lang})`;
}

function where(frame: ExplodedFrame): string {
  const s = frame.scope;
  const src = frame.source!;
  if (s === null) {
    return `**Where:** lines ${src.firstLine}–${src.lastLine} around the frame's line; ${frame.fallback ?? "no scope"}`;
  }
  const name = s.name === null ? `anonymous ${s.label}` : `${s.label} ${code(s.name)}`;
  const of =
    s.kind === "function" && s.className !== null
      ? ` of ${s.classLabel ?? "class"} ${code(s.className)}`
      : "";
  const cut =
    src.hiddenAbove + src.hiddenBelow > 0
      ? `; cut to the lines around the frame (${src.hiddenAbove + src.hiddenBelow} not shown)`
      : "";
  return `**Where:** ${name}${of}, lines ${s.startLine}–${s.endLine}${cut}`;
}

function traceLine(frame: ExplodedFrame): string {
  const raw = frame.frame.raw.trim();
  if (raw.length === 0) return "";
  if (!raw.includes("\n")) return `**Trace:** ${code(raw)}`;
  const fence = fenceFor(raw);
  return `**Trace:**\n\n${fence}text\n${raw}\n${fence}`;
}

function gitLine(frame: ExplodedFrame): string {
  const g = frame.git;
  if (g === null) return "";
  const state = g.dirty ? "**uncommitted changes**" : "no uncommitted changes";
  const commits = g.commits.map(
    (c) => `- ${code(c.hash)} ${c.date} ${c.author.replace(/\s+/g, " ")}: ${c.subject.replace(/\s+/g, " ")}`,
  );
  const head = `**Git:** ${state}${commits.length > 0 ? "; last commits touching the file:" : "; not committed yet"}`;
  return [head, ...commits].join("\n");
}

/** Everything under a frame's heading. */
function body(frame: ExplodedFrame): string {
  if (frame.status !== "rendered" || frame.source === null) {
    const what = frame.status === "omitted" ? "Not rendered" : "Skipped";
    const parts = [`*${what}: ${frame.reason ?? "unknown reason"}*`];
    const t = traceLine(frame);
    if (t) parts.push(t);
    return parts.join("\n\n");
  }
  const head = [where(frame), traceLine(frame)].filter((s) => s.length > 0).join("\n");
  const fence = fenceFor(frame.source.text);
  const block = `${fence}${frame.fence}\n${frame.source.text}\n${fence}`;
  const git = gitLine(frame);
  return [head, git, block].filter((s) => s.length > 0).join("\n\n");
}

/** Content of `frames/NN-<slug>.md` for one frame. */
export function renderFrameFile(frame: ExplodedFrame, i: number = frame.index): string {
  return `# ${heading(frame, i)}\n\n${body(frame)}\n`;
}

/** The files to write under `frames/` (rendered and skipped frames; omitted ones are summarised only). */
export function frameFiles(frames: ExplodedFrame[]): { name: string; content: string }[] {
  const width = Math.max(2, String(frames.length).length);
  return frames
    .filter((f) => f.status !== "omitted")
    .map((f) => ({ name: frameFileName(f, f.index, width), content: renderFrameFile(f) }));
}

function skippedLine(f: ExplodedFrame): string {
  return `- Frame ${f.index + 1} — ${code(`${f.displayPath}:${f.frame.line}`)} — skipped: ${f.reason ?? "unknown reason"}`;
}

/** Body of report.md's "## Source frames" section (without the heading). */
export function renderFramesSection(frames: ExplodedFrame[]): string {
  if (frames.length === 0) return "*(no stack frames)*\n";
  const count = (s: string) => frames.filter((f) => f.status === s).length;
  const rendered = count("rendered");
  const skipped = count("skipped");
  const omitted = frames.filter((f) => f.status === "omitted");
  const summary = [`${rendered} rendered`, `${skipped} skipped`];
  if (omitted.length > 0) summary.push(`${omitted.length} not rendered`);
  const out: string[] = [`Frames of the final exception, innermost first: ${summary.join(", ")}.`];

  let i = 0;
  const renderable = frames.filter((f) => f.status !== "omitted");
  while (i < renderable.length) {
    const f = renderable[i]!;
    if (f.status === "rendered") {
      out.push(`### ${heading(f, f.index)}\n\n${body(f)}`);
      i++;
      continue;
    }
    // A run of skipped frames with the same reason; long runs keep the first two and the last.
    let j = i;
    while (j < renderable.length && renderable[j]!.status === "skipped" && renderable[j]!.reason === f.reason)
      j++;
    const run = renderable.slice(i, j);
    const lines =
      run.length <= 5
        ? run.map(skippedLine)
        : [
            skippedLine(run[0]!),
            skippedLine(run[1]!),
            `- … ${run.length - 3} more frames skipped for the same reason …`,
            skippedLine(run[run.length - 1]!),
          ];
    out.push(lines.join("\n"));
    i = j;
  }
  if (omitted.length > 0) {
    const first = omitted[0]!.index + 1;
    const last = omitted[omitted.length - 1]!.index + 1;
    const range = first === last ? `Frame ${first}` : `Frames ${first}–${last}`;
    out.push(`- ${range} not rendered: ${omitted[0]!.reason ?? "limit reached"}`);
  }
  return `${out.join("\n\n")}\n`;
}
