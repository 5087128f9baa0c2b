/**
 * @module
 * The three tools the API-mode agent gets. All read-only and bounded:
 * - `read_file`: a file inside the repository (relative, or absolute inside it), by line range,
 *   after resolving symlinks so nothing outside the root (and nothing under `.git/`) is readable.
 * - `grep`: `git grep` (tracked and untracked, .gitignore honoured) or, outside a git repository,
 *   `grep -r`, run as a subprocess with a timeout and capped output. A subprocess and POSIX ERE
 *   (no backtracking) mean a hostile pattern cannot freeze the monitor's event loop.
 * - `view_log_excerpt`: the tail of the incident's log excerpt.
 * Results are text for the model; a refused or failed call is an error result, never an exception.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runCommand } from "../../util/run-command.ts";

export interface ToolContext {
  /** Absolute path of the repository (or project) root. */
  root: string;
  /** The incident's log excerpt. */
  logExcerpt: string;
}

export interface ToolResult {
  content: string;
  isError: boolean;
}

/** Tool definitions for the Messages API `tools` field. */
export const TOOL_DEFINITIONS = [
  {
    name: "read_file",
    description:
      "Read a text file of the project. `path` is relative to the project root (or absolute inside it). " +
      "Returns numbered lines; use start_line/max_lines for long files.",
    input_schema: {
      type: "object",
      properties: {
        path: { type: "string" },
        start_line: { type: "integer", minimum: 1, description: "first line (1-based), default 1" },
        max_lines: { type: "integer", minimum: 1, maximum: 400, description: "default 200" },
      },
      required: ["path"],
    },
  },
  {
    name: "grep",
    description:
      "Search the project's files for a POSIX extended regular expression (use [0-9] rather than \\d). " +
      "Returns up to 50 matching lines as path:line:text. Files ignored by .gitignore are skipped.",
    input_schema: {
      type: "object",
      properties: {
        pattern: { type: "string" },
        path: { type: "string", description: "a file or directory to search in, relative to the root" },
        ignore_case: { type: "boolean" },
      },
      required: ["pattern"],
    },
  },
  {
    name: "view_log_excerpt",
    description: "The end of the log excerpt captured around the failure.",
    input_schema: {
      type: "object",
      properties: {
        tail_chars: { type: "integer", minimum: 100, maximum: 16000, description: "default 4000" },
      },
    },
  },
] as const;

const MAX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_RESULT_CHARS = 16_000;
const MAX_MATCHES = 50;

const err = (content: string): ToolResult => ({ content, isError: true });

/** Resolve `p` inside `root` (symlinks followed); null when it would leave the root or enter `.git`. */
export function resolveInside(root: string, p: string): string | null {
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    return null;
  }
  const abs = path.resolve(realRoot, p);
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch {
    real = abs; // does not exist: the caller reports that
  }
  const rel = path.relative(realRoot, real);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return null;
  if (rel === ".git" || rel.startsWith(`.git${path.sep}`)) return null;
  return real;
}

function readFileTool(ctx: ToolContext, input: Record<string, unknown>): ToolResult {
  const p = typeof input.path === "string" ? input.path : "";
  if (!p) return err("read_file needs a path");
  const file = resolveInside(ctx.root, p);
  if (file === null) return err(`refused: ${p} is outside the project (or inside .git)`);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return err(`no such file: ${p}`);
  }
  if (st.isDirectory()) {
    const names = fs
      .readdirSync(file, { withFileTypes: true })
      .map((d) => (d.isDirectory() ? `${d.name}/` : d.name));
    return { content: `${p} is a directory:\n${names.sort().slice(0, 200).join("\n")}`, isError: false };
  }
  if (st.size > MAX_FILE_BYTES) return err(`${p} is too big to read (${st.size} bytes)`);
  const buf = fs.readFileSync(file);
  if (buf.includes(0)) return err(`${p} is a binary file (${st.size} bytes)`);
  const lines = buf.toString("utf8").split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const start = Math.max(1, Number.isInteger(input.start_line) ? (input.start_line as number) : 1);
  const count = Math.min(
    400,
    Math.max(1, Number.isInteger(input.max_lines) ? (input.max_lines as number) : 200),
  );
  const slice = lines.slice(start - 1, start - 1 + count);
  let out = slice.map((l, i) => `${String(start + i).padStart(6)}\t${l}`).join("\n");
  if (out.length > MAX_RESULT_CHARS) out = `${out.slice(0, MAX_RESULT_CHARS)}\n…[cut]`;
  const end = start - 1 + slice.length;
  const note =
    end < lines.length
      ? `\n[lines ${start}-${end} of ${lines.length}; ask for start_line ${end + 1} to read on]`
      : "";
  return { content: `${out}${note}`, isError: false };
}

async function grepTool(ctx: ToolContext, input: Record<string, unknown>): Promise<ToolResult> {
  const pattern = typeof input.pattern === "string" ? input.pattern : "";
  if (!pattern) return err("grep needs a pattern");
  const where = typeof input.path === "string" && input.path ? input.path : ".";
  const target = resolveInside(ctx.root, where);
  if (target === null) return err(`refused: ${where} is outside the project (or inside .git)`);
  const rel = path.relative(fs.realpathSync(ctx.root), target) || ".";
  const icase = input.ignore_case === true ? ["-i"] : [];
  const isRepo = fs.existsSync(path.join(ctx.root, ".git"));
  const argv = isRepo
    ? [
        "git",
        "grep",
        "-n",
        "-I",
        "-E",
        "--untracked",
        "--exclude-standard",
        ...icase,
        "-e",
        pattern,
        "--",
        rel,
      ]
    : ["grep", "-r", "-n", "-I", "-E", "--exclude-dir=.git", ...icase, "-e", pattern, "--", rel];
  const r = await runCommand(argv, {
    cwd: ctx.root,
    env: { ...process.env, GIT_LITERAL_PATHSPECS: "1", LC_ALL: "C" },
    timeoutMs: 10_000,
    maxOutputBytes: 256 * 1024,
  });
  if (r.timedOut) return err("grep timed out (10 s); narrow the pattern or the path");
  if (r.error) return err(r.error);
  if (r.exitCode === 1) return { content: "no matches", isError: false };
  if (r.exitCode !== 0) return err(`grep failed: ${r.stderr.trim().split("\n")[0] ?? ""}`);
  const lines = r.stdout.split("\n").filter((l) => l !== "");
  const shown = lines.slice(0, MAX_MATCHES).map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  const more = lines.length > MAX_MATCHES ? `\n[${lines.length - MAX_MATCHES}+ more matches not shown]` : "";
  return { content: shown.join("\n") + more, isError: false };
}

function logTool(ctx: ToolContext, input: Record<string, unknown>): ToolResult {
  const n = Math.min(
    16_000,
    Math.max(100, Number.isInteger(input.tail_chars) ? (input.tail_chars as number) : 4000),
  );
  if (!ctx.logExcerpt) return { content: "(the log excerpt is empty)", isError: false };
  const text =
    ctx.logExcerpt.length > n ? `…${ctx.logExcerpt.slice(ctx.logExcerpt.length - n)}` : ctx.logExcerpt;
  return { content: text, isError: false };
}

/** Run one tool call. */
export async function runTool(ctx: ToolContext, name: string, input: unknown): Promise<ToolResult> {
  const args = input !== null && typeof input === "object" ? (input as Record<string, unknown>) : {};
  try {
    if (name === "read_file") return readFileTool(ctx, args);
    if (name === "grep") return await grepTool(ctx, args);
    if (name === "view_log_excerpt") return logTool(ctx, args);
    return err(`unknown tool ${name}; the tools are read_file, grep, view_log_excerpt`);
  } catch (e) {
    return err(`${name} failed: ${(e as Error).message}`);
  }
}
