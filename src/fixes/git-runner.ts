/**
 * @module
 * The one way src/fixes talks to git: `git` as a subprocess with a timeout, a fixed environment
 * and a result object instead of exceptions for git's own non-zero exits.
 *
 * Every call gets settings that make git predictable inside somebody else's repository:
 * - `GIT_LITERAL_PATHSPECS=1`: a file called `*.py` or `:(glob)x` is a path, not a pattern.
 * - `GIT_OPTIONAL_LOCKS=0`: read-only commands never rewrite the user's index behind their back.
 * - `core.hooksPath=/dev/null`: no user hook (reference-transaction, post-index-change) runs.
 * - `gc.auto=0`, `commit.gpgSign=false`, `core.quotePath=false`, `LC_ALL=C` (parsable messages),
 *   `GIT_TERMINAL_PROMPT=0` (never wait for a password).
 * The child leads its own process group, so a timeout kills filters (git-lfs) it started as well.
 */

export interface GitOptions {
  cwd: string;
  /** Extra environment (merged over process.env and the fixed settings). */
  env?: Record<string, string>;
  /** Bytes or text for stdin. */
  input?: string | Uint8Array;
  /** Default 30 s, as the Python tool. */
  timeoutMs?: number;
}

export interface GitResult {
  /** Exit code; -1 when git could not be started or was killed by the timeout. */
  code: number;
  /** stdout decoded as UTF-8. */
  stdout: string;
  /** stdout exactly as git wrote it (patches and blobs may not be UTF-8). */
  stdoutBytes: Uint8Array;
  stderr: string;
  timedOut: boolean;
}

/** A git command failed; the message names the command and carries git's own words. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: GitResult,
  ) {
    const why = result.timedOut
      ? "timed out"
      : result.stderr.trim().split("\n").slice(-3).join(" / ") || `exit code ${result.code}`;
    super(`git ${args.join(" ")} failed: ${why}`);
    this.name = "GitError";
  }
}

const FIXED_CONFIG = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "gc.auto=0",
  "-c",
  "commit.gpgSign=false",
  "-c",
  "core.quotePath=false",
  "-c",
  "advice.detachedHead=false",
];

const AUTHOR = "autosentry";
const AUTHOR_EMAIL = "autosentry@localhost";

/** Run git; never rejects because of git's exit code (check `code`). */
export async function runGit(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_LITERAL_PATHSPECS: "1",
    GIT_OPTIONAL_LOCKS: "0",
    GIT_AUTHOR_NAME: AUTHOR,
    GIT_AUTHOR_EMAIL: AUTHOR_EMAIL,
    GIT_COMMITTER_NAME: AUTHOR,
    GIT_COMMITTER_EMAIL: AUTHOR_EMAIL,
    ...opts.env,
  };
  let proc: Bun.Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(["git", ...FIXED_CONFIG, ...args], {
      cwd: opts.cwd,
      env,
      stdin: opts.input === undefined ? "ignore" : "pipe",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return {
      code: -1,
      stdout: "",
      stdoutBytes: new Uint8Array(),
      stderr: `cannot run git: ${msg}`,
      timedOut: false,
    };
  }
  if (opts.input !== undefined) {
    const sink = proc.stdin as Bun.FileSink;
    try {
      sink.write(opts.input);
      await Promise.resolve(sink.end()).catch(() => {});
    } catch {
      // git exited without reading all of its input; its exit code and stderr say why.
    }
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      proc.kill("SIGKILL");
    }
  }, timeoutMs);
  const [out, err] = await Promise.all([
    new Response(proc.stdout).arrayBuffer(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  const bytes = new Uint8Array(out);
  return {
    code: timedOut ? -1 : (proc.exitCode ?? -1),
    stdout: new TextDecoder().decode(bytes),
    stdoutBytes: bytes,
    stderr: err,
    timedOut,
  };
}

/** Run git and return its trimmed stdout; throws {@link GitError} on any failure. */
export async function gitOut(args: readonly string[], opts: GitOptions): Promise<string> {
  const r = await runGit(args, opts);
  if (r.code !== 0) throw new GitError(args, r);
  return r.stdout.trim();
}

/** Run git and return the full result; throws {@link GitError} on any failure. */
export async function gitOk(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  const r = await runGit(args, opts);
  if (r.code !== 0) throw new GitError(args, r);
  return r;
}

/** Run a `-z` git command and return its NUL-separated records (names are never trimmed). */
export async function gitZ(args: readonly string[], opts: GitOptions): Promise<string[]> {
  const r = await runGit(args, opts);
  if (r.code !== 0) throw new GitError(args, r);
  return splitZ(r.stdout);
}

/** Split NUL-terminated output (`-z`) into its records. */
export function splitZ(text: string): string[] {
  const parts = text.split("\0");
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}
