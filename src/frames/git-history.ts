/**
 * @module
 * For a source file tracked by git: the last commits that touched it and whether it has
 * uncommitted changes, so an agent can tell "this broke after commit X" from "this was edited by
 * hand since". Git runs in the file's own directory (submodules and nested repositories answer for
 * themselves), with `GIT_OPTIONAL_LOCKS=0` so that `git status` never takes the user's index lock,
 * and with a time limit. Any failure (no git, not a repository, untracked file) yields null.
 */
import * as path from "node:path";

export interface Commit {
  /** Abbreviated hash. */
  hash: string;
  /** Author date, YYYY-MM-DD. */
  date: string;
  author: string;
  subject: string;
}

export interface GitHistory {
  /** Newest first, at most the requested number. */
  commits: Commit[];
  /** The working tree differs from HEAD for this file (staged or not). */
  dirty: boolean;
}

const TIMEOUT_MS = 3000;
const SEP = "\x1f";

async function git(cwd: string, args: string[]): Promise<string | null> {
  try {
    const proc = Bun.spawn(["git", ...args], {
      cwd,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
      timeout: TIMEOUT_MS,
      killSignal: "SIGKILL",
      env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
    });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return code === 0 ? out : null;
  } catch {
    return null;
  }
}

/** History of one file; null when git cannot say (not a repository, untracked, git missing). */
export async function gitHistory(file: string, count = 3): Promise<GitHistory | null> {
  const dir = path.dirname(file);
  const name = path.basename(file);
  const [log, status] = await Promise.all([
    git(dir, [
      "-c",
      "core.quotePath=false",
      "log",
      `-n${count}`,
      "--date=short",
      `--format=%h${SEP}%ad${SEP}%an${SEP}%s`,
      "--",
      name,
    ]),
    git(dir, ["-c", "core.quotePath=false", "status", "--porcelain", "--", name]),
  ]);
  if (log === null || status === null) return null;
  if (status.startsWith("??")) return null;
  const commits = log
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => {
      const [hash = "", date = "", author = "", subject = ""] = l.split(SEP);
      return { hash, date, author, subject };
    });
  const dirty = status.trim().length > 0;
  // No commit and no change: ignored, or outside the repository's history.
  if (commits.length === 0 && !dirty) return null;
  return { commits, dirty };
}
