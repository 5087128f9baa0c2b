/**
 * @module
 * Snapshots of a working tree as git objects, taken without touching the user's repository state.
 *
 * A snapshot is the tree of "what is on disk right now": tracked files as they are (modified,
 * deleted), plus untracked files that are not ignored. It is built in a throw-away index
 * (`GIT_INDEX_FILE` pointing at a copy of the real index, so git reuses its stat cache and only
 * re-hashes what changed) with `git add -u`, `git update-index --add` for untracked files and
 * `git write-tree`. The real index, HEAD, every ref, the stash and the working tree stay exactly
 * as they were; the only trace is new objects in the object database.
 *
 * Limits, on purpose:
 * - Untracked files larger than `maxUntrackedBytes` (default 10 MiB) and untracked files beyond
 *   `maxUntrackedFiles` are left out (and listed in `skipped`), so a forgotten 20 GB checkpoint
 *   next to the code is never copied into `.git/objects`.
 * - Ignored files are not part of the tree; edits inside submodules show only as the submodule's
 *   HEAD.
 * - `exclude` (default: every `.autosentry` directory) keeps autosentry's own files out: the monitor writes state,
 *   logs and incident folders while the agent runs, and those are not the agent's edits.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gitOut, gitZ, runGit } from "./git-runner.ts";

export interface SnapshotOptions {
  /** Untracked files bigger than this are left out. Default 10 MiB. */
  maxUntrackedBytes?: number;
  /** At most this many untracked files are captured. Default 20 000. */
  maxUntrackedFiles?: number;
  /**
   * Paths left out of the snapshot: globs relative to the repository root, each excluding the path
   * and everything under it. Default `["**\/.autosentry"]`.
   */
  exclude?: string[];
  /** Per git call. Default 30 s (snapshots of big trees may need more). */
  timeoutMs?: number;
}

export interface TreeSnapshot {
  tree: string;
  /** Untracked files left out by the limits (repo-relative). */
  skipped: string[];
}

/** The state recorded before an agent runs. JSON-serialisable. */
export interface BaseSnapshot {
  /** Absolute path of the work tree's top level. */
  repoRoot: string;
  /** Short name of the checked-out branch, or null when HEAD is detached. */
  baseBranch: string | null;
  /** The commit HEAD pointed at, or null in a repository without commits. */
  baseCommit: string | null;
  /**
   * A commit holding the working tree as it was (dirty and untracked files included), whose parent
   * is `baseCommit`. When the tree was clean this is `baseCommit` itself, so no empty commit is made.
   */
  snapshotCommit: string;
  /** The tree of `snapshotCommit`. */
  snapshotTree: string;
  skipped: string[];
  /** The `exclude` list the snapshot was taken with (later snapshots must use the same). */
  exclude: string[];
  /** Epoch milliseconds. */
  takenAt: number;
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_FILES = 20_000;
/** Every `.autosentry` directory, wherever the supervised project sits in the repository. */
export const DEFAULT_EXCLUDE: readonly string[] = ["**/.autosentry"];

/**
 * The whole tree minus `exclude` (globs relative to the repository root; an entry excludes the
 * path itself and everything under it), as pathspecs with magic enabled for this call only.
 */
function wholeTreeExcept(exclude: readonly string[]): { env: Record<string, string>; specs: string[] } {
  const specs = [":(top)"];
  for (const e of exclude) {
    const p = e.replace(/\/+$/, "");
    if (p === "") continue;
    specs.push(`:(top,exclude,glob)${p}`, `:(top,exclude,glob)${p}/**`);
  }
  return { env: { GIT_LITERAL_PATHSPECS: "0" }, specs };
}

/** The top level of the work tree containing `dir`, or null when `dir` is not inside one. */
export async function findRepoRoot(dir: string, timeoutMs?: number): Promise<string | null> {
  if (!fs.existsSync(dir)) return null;
  const r = await runGit(["rev-parse", "--is-inside-work-tree", "--show-toplevel"], {
    cwd: dir,
    ...(timeoutMs ? { timeoutMs } : {}),
  });
  if (r.code !== 0) return null;
  const [inside, top] = r.stdout.split("\n");
  if (inside !== "true" || !top) return null;
  return top;
}

/** Write the working tree of `repoRoot` as a tree object, without touching the real index. */
export async function snapshotTree(repoRoot: string, opts: SnapshotOptions = {}): Promise<TreeSnapshot> {
  const maxBytes = opts.maxUntrackedBytes ?? DEFAULT_MAX_BYTES;
  const maxFiles = opts.maxUntrackedFiles ?? DEFAULT_MAX_FILES;
  const base = { cwd: repoRoot, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  const realIndex = path.resolve(repoRoot, await gitOut(["rev-parse", "--git-path", "index"], base));
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-snap-"));
  const tmpIndex = path.join(tmpDir, "index");
  try {
    if (fs.existsSync(realIndex)) {
      fs.copyFileSync(realIndex, tmpIndex);
      // Keep the index's own mtime: git trusts an entry's cached stat only when the file changed
      // before the index was written ("racy git"). A copy stamped "now" would make a same-size edit
      // made within the index's second look unchanged, and an agent's fix would be lost.
      const st = fs.statSync(realIndex);
      fs.utimesSync(tmpIndex, st.atime, st.mtime);
    }
    const whole = wholeTreeExcept(opts.exclude ?? DEFAULT_EXCLUDE);
    const withIndex = { ...base, env: { GIT_INDEX_FILE: tmpIndex } };
    const withSpecs = { ...base, env: { GIT_INDEX_FILE: tmpIndex, ...whole.env } };
    // Tracked files: modifications, deletions, mode changes.
    await gitOut(["add", "-u", "--", ...whole.specs], withSpecs);
    // Untracked, not ignored. Directories (nested repositories) are listed with a trailing slash.
    const others = (
      await gitZ(
        ["ls-files", "-z", "--others", "--exclude-standard", "--full-name", "--", ...whole.specs],
        withSpecs,
      )
    ).filter((p) => p !== "" && !p.endsWith("/"));
    const take: string[] = [];
    const skipped: string[] = [];
    for (const rel of others) {
      let st: fs.Stats;
      try {
        st = fs.lstatSync(path.join(repoRoot, rel));
      } catch {
        continue; // vanished between the listing and now
      }
      if (!st.isFile() && !st.isSymbolicLink()) continue;
      if (take.length >= maxFiles || (st.isFile() && st.size > maxBytes)) skipped.push(rel);
      else take.push(rel);
    }
    if (take.length > 0) {
      await gitOut(["update-index", "--add", "-z", "--stdin"], {
        ...withIndex,
        input: `${take.join("\0")}\0`,
      });
    }
    const tree = await gitOut(["write-tree"], withIndex);
    return { tree, skipped };
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

/**
 * Record the base branch, base commit and a commit of the current working tree before an agent
 * runs. Returns null when `repoDir` is not inside a git work tree.
 */
export async function snapshotBase(
  repoDir: string,
  opts: SnapshotOptions = {},
): Promise<BaseSnapshot | null> {
  const repoRoot = await findRepoRoot(repoDir, opts.timeoutMs);
  if (repoRoot === null) return null;
  const base = { cwd: repoRoot, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  const head = await runGit(["rev-parse", "--verify", "-q", "HEAD^{commit}"], base);
  const baseCommit = head.code === 0 ? head.stdout.trim() : null;
  const sym = await runGit(["symbolic-ref", "-q", "--short", "HEAD"], base);
  const baseBranch = sym.code === 0 && sym.stdout.trim() !== "" ? sym.stdout.trim() : null;
  const { tree, skipped } = await snapshotTree(repoRoot, opts);
  let snapshotCommit: string;
  if (baseCommit !== null && (await gitOut(["rev-parse", `${baseCommit}^{tree}`], base)) === tree) {
    snapshotCommit = baseCommit;
  } else {
    const parents = baseCommit === null ? [] : ["-p", baseCommit];
    snapshotCommit = await gitOut(
      [
        "commit-tree",
        "--no-gpg-sign",
        tree,
        ...parents,
        "-m",
        "autosentry: working tree before the agent ran\n\nUncommitted and untracked files as they were; not part of any branch of yours.",
      ],
      base,
    );
  }
  return {
    repoRoot,
    baseBranch,
    baseCommit,
    snapshotCommit,
    snapshotTree: tree,
    skipped,
    exclude: [...(opts.exclude ?? DEFAULT_EXCLUDE)],
    takenAt: Date.now(),
  };
}
