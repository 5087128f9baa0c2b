/**
 * @module
 * For source files tracked by git: the last commits that touched each one and whether it has
 * uncommitted changes, so an agent can tell "this broke after commit X" from "this was edited by
 * hand since".
 *
 * Files are grouped by repository (found by looking for `.git` upwards, so submodules and nested
 * repositories answer for themselves) and each repository is asked twice whatever the number of
 * files: one `git status` and one `git log --name-only` over all of them (a file whose commits are
 * not all in that log's window gets its own `git log`). Git runs with `GIT_OPTIONAL_LOCKS=0` so
 * that `git status` never takes the user's index lock, with literal pathspecs, and with a time
 * limit. Any failure (no git, not a repository, untracked or ignored file) yields null.
 */
import * as fs from "node:fs";
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
  /** The working tree or the index differs from HEAD for this file. */
  dirty: boolean;
}

const TIMEOUT_MS = 3000;
/** Commits read by the shared log; enough for a handful of files' last three changes. */
const LOG_WINDOW = 200;
const FORMAT = "--format=%x1e%h%x1f%ad%x1f%an%x1f%s";

async function git(cwd: string, args: string[]): Promise<string | null> {
  try {
    const proc = Bun.spawn(["git", "--literal-pathspecs", "-c", "core.quotePath=false", ...args], {
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

/** The directory holding `.git` (a directory, or a file for worktrees and submodules) above `file`. */
function repoRoot(file: string, cache: Map<string, string | null>): string | null {
  const seen: string[] = [];
  let dir = path.dirname(file);
  let root: string | null = null;
  for (;;) {
    const known = cache.get(dir);
    if (known !== undefined) {
      root = known;
      break;
    }
    seen.push(dir);
    if (fs.existsSync(path.join(dir, ".git"))) {
      root = dir;
      break;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of seen) cache.set(d, root);
  return root;
}

/** `git log -z --name-only` records: commit fields, then the touched paths. */
function parseLog(out: string): { commit: Commit; files: string[] }[] {
  return out
    .split("\x1e")
    .filter((r) => r.length > 0)
    .map((record) => {
      const nul = record.indexOf("\0");
      const head = nul < 0 ? record : record.slice(0, nul);
      const [hash = "", date = "", author = "", subject = ""] = head.split("\x1f");
      const files = (nul < 0 ? "" : record.slice(nul + 1))
        .split("\0")
        .map((f) => f.replace(/^\n/, ""))
        .filter((f) => f.length > 0);
      return { commit: { hash, date, author, subject }, files };
    });
}

/** `git status --porcelain -z`: path → XY code (rename sources skipped). */
function parseStatus(out: string): Map<string, string> {
  const codes = new Map<string, string>();
  const parts = out.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    codes.set(entry.slice(3), xy);
    if (xy[0] === "R" || xy[0] === "C") i++;
  }
  return codes;
}

async function repoHistories(
  root: string,
  files: string[],
  count: number,
): Promise<Map<string, GitHistory | null>> {
  const rel = files.map((f) => path.relative(root, f));
  const result = new Map<string, GitHistory | null>();
  const [log, status] = await Promise.all([
    git(root, ["log", "-z", "--name-only", `-n${LOG_WINDOW}`, "--date=short", FORMAT, "--", ...rel]),
    git(root, ["status", "--porcelain=v1", "-z", "--", ...rel]),
  ]);
  if (log === null || status === null) {
    for (const f of files) result.set(f, null);
    return result;
  }
  const records = parseLog(log);
  const codes = parseStatus(status);
  await Promise.all(
    files.map(async (file, i) => {
      const r = rel[i]!;
      const code = codes.get(r);
      if (code === "??") {
        result.set(file, null);
        return;
      }
      let commits = records.filter((rec) => rec.files.includes(r)).map((rec) => rec.commit);
      if (commits.length < count && records.length >= LOG_WINDOW) {
        const own = await git(root, [
          "log",
          "-z",
          "--name-only",
          `-n${count}`,
          "--date=short",
          FORMAT,
          "--",
          r,
        ]);
        if (own !== null) commits = parseLog(own).map((rec) => rec.commit);
      }
      const dirty = code !== undefined;
      // No commit and no change: ignored, or never part of the history.
      result.set(file, commits.length === 0 && !dirty ? null : { commits: commits.slice(0, count), dirty });
    }),
  );
  return result;
}

/** Histories of absolute `files` (null for each one git cannot speak about). */
export async function gitHistories(files: string[], count = 3): Promise<Map<string, GitHistory | null>> {
  const roots = new Map<string, string | null>();
  const byRoot = new Map<string, string[]>();
  const result = new Map<string, GitHistory | null>();
  for (const f of new Set(files)) {
    const root = repoRoot(f, roots);
    if (root === null) result.set(f, null);
    else byRoot.set(root, [...(byRoot.get(root) ?? []), f]);
  }
  const parts = await Promise.all([...byRoot].map(([root, group]) => repoHistories(root, group, count)));
  for (const part of parts) for (const [f, h] of part) result.set(f, h);
  return result;
}

/** History of one file; null when git cannot say. */
export async function gitHistory(file: string, count = 3): Promise<GitHistory | null> {
  return (await gitHistories([file], count)).get(file) ?? null;
}
