/**
 * @module
 * After the agent ran: turn exactly its edits into a commit on a fix branch, without checking
 * anything out.
 *
 * The working tree is snapshotted again (see snapshot.ts) and compared with the snapshot taken
 * before the agent ran; the difference is the agent's work, tracked and new files alike. It is
 * committed with `commit-tree` (parent: the before-snapshot) and published with `update-ref`, so
 * HEAD, the index, the working tree and the user's branch never change. The user's own uncommitted
 * work is in the parent snapshot, never in the fix commit's diff.
 *
 * Known limit: edits the user makes to the same tree *while* the agent runs cannot be told apart
 * from the agent's and are captured with them.
 */
import { writeFileAtomic } from "../util/atomic-write.ts";
import { type GitOptions, gitOut, gitZ, runGit } from "./git-runner.ts";
import { type BaseSnapshot, type SnapshotOptions, snapshotTree } from "./snapshot.ts";

export type FixFileStatus = "added" | "modified" | "deleted" | "type_changed";

export interface FixFile {
  /** Repo-relative path. */
  path: string;
  status: FixFileStatus;
}

/** The agent's edits, as git objects. JSON-serialisable (the monitor may keep it in state). */
export interface FixCommit {
  incidentId: string;
  repoRoot: string;
  baseBranch: string | null;
  baseCommit: string | null;
  /** Parent of `commit`: the working tree before the agent ran. */
  snapshotCommit: string;
  /** The working tree after the agent ran. */
  commit: string;
  tree: string;
  /** The fix branch's short name, or null when none was created. */
  branch: string | null;
  /** `git diff --binary <snapshotCommit> <commit>`, decoded as UTF-8 (for reports). */
  diff: string;
  files: FixFile[];
  /** Where the patch was written, when asked to. */
  diffPath: string | null;
  /** Untracked files too big (or too many) to be captured, before or after. */
  skipped: string[];
  /** Paths left out of both snapshots (see SnapshotOptions.exclude). */
  exclude: string[];
  /** Things that went wrong without losing the capture (e.g. the branch could not be created). */
  problems: string[];
}

export interface CaptureOptions extends Omit<SnapshotOptions, "exclude"> {
  /** Default `autosentry/fix-` (`healing.git.branch_prefix`). */
  branchPrefix?: string;
  /** Create the branch (`healing.git.enabled && write_enabled`). Default true. */
  createBranch?: boolean;
  /** Write the patch here (e.g. `<incident>/fix/diff.patch`). */
  diffPath?: string;
  /** First line of the commit message. */
  subject?: string;
}

/** The `git diff` arguments that produce a patch `git apply` takes back whatever the user's config says. */
export function patchArgs(from: string, to: string): string[] {
  return [
    "diff",
    "--binary",
    "--full-index",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-renames",
    "--no-relative",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    from,
    to,
    "--",
  ];
}

const STATUS: Record<string, FixFileStatus> = { A: "added", M: "modified", D: "deleted", T: "type_changed" };

/** Files that differ between two tree-ish objects. */
export async function changedFiles(from: string, to: string, opts: GitOptions): Promise<FixFile[]> {
  const recs = await gitZ(
    ["diff", "--name-status", "-z", "--no-renames", "--no-relative", from, to, "--"],
    opts,
  );
  const files: FixFile[] = [];
  for (let i = 0; i + 1 < recs.length; i += 2) {
    files.push({ status: STATUS[recs[i]!.charAt(0)] ?? "modified", path: recs[i + 1]! });
  }
  return files;
}

/** A branch name git accepts, derived from `wanted` (bad characters become `-`). */
async function validBranchName(wanted: string, opts: GitOptions): Promise<string> {
  const ok = await runGit(["check-ref-format", "--branch", wanted], opts);
  if (ok.code === 0) return wanted;
  const cleaned = wanted
    .replace(/[\s~^:?*[\\\x00-\x1f\x7f]+/g, "-")
    .replace(/\.\.+/g, ".")
    .replace(/@\{/g, "-")
    .replace(/\/\.+/g, "/")
    .replace(/(\.lock|\.|\/)+$/g, "")
    .replace(/^[-.]+/, "");
  return cleaned || "autosentry-fix";
}

/** Create `refs/heads/<name>` (or `<name>-1`, `<name>-2`, …) at `commit`; never moves an existing branch. */
async function createBranch(
  name: string,
  commit: string,
  reflog: string,
  opts: GitOptions,
): Promise<{ branch: string | null; problem: string | null }> {
  let last = "";
  for (let n = 0; n < 100; n++) {
    const candidate = n === 0 ? name : `${name}-${n}`;
    // An empty old value means "only if it does not exist yet", atomically.
    const r = await runGit(["update-ref", "-m", reflog, `refs/heads/${candidate}`, commit, ""], opts);
    if (r.code === 0) return { branch: candidate, problem: null };
    last = r.stderr.trim();
    const exists = await runGit(["rev-parse", "--verify", "-q", `refs/heads/${candidate}`], opts);
    if (exists.code !== 0) break; // not a name clash (e.g. a file/directory conflict): give up
  }
  return { branch: null, problem: `cannot create fix branch ${name}: ${last || "no free name"}` };
}

/**
 * Capture the agent's edits made since `base` was taken. Returns null when the working tree is
 * exactly as it was (the agent changed nothing that a snapshot can see).
 */
export async function captureFix(
  base: BaseSnapshot,
  incidentId: string,
  opts: CaptureOptions = {},
): Promise<FixCommit | null> {
  const g: GitOptions = { cwd: base.repoRoot, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  const after = await snapshotTree(base.repoRoot, { ...opts, exclude: base.exclude });
  if (after.tree === base.snapshotTree) return null;
  const subject = opts.subject ?? `autosentry: agent fix for ${incidentId}`;
  const body = [
    subject,
    "",
    `Incident: ${incidentId}`,
    `Base: ${base.baseBranch ?? "(detached)"} ${base.baseCommit ?? "(no commits)"}`,
    "The parent commit is a snapshot of the working tree before the agent ran; this commit holds only the agent's edits.",
  ].join("\n");
  const commit = await gitOut(
    ["commit-tree", "--no-gpg-sign", after.tree, "-p", base.snapshotCommit, "-m", body],
    g,
  );
  const patch = await runGit(patchArgs(base.snapshotCommit, commit), g);
  if (patch.code !== 0) throw new Error(`Cannot diff the agent's edits: ${patch.stderr.trim()}`);
  const files = await changedFiles(base.snapshotCommit, commit, g);
  const problems: string[] = [];
  let diffPath: string | null = null;
  if (opts.diffPath) {
    await writeFileAtomic(opts.diffPath, patch.stdoutBytes);
    diffPath = opts.diffPath;
  }
  let branch: string | null = null;
  if (opts.createBranch ?? true) {
    const name = await validBranchName(`${opts.branchPrefix ?? "autosentry/fix-"}${incidentId}`, g);
    const made = await createBranch(name, commit, subject, g);
    branch = made.branch;
    if (made.problem) problems.push(made.problem);
  }
  const skipped = [...new Set([...base.skipped, ...after.skipped])];
  return {
    incidentId,
    repoRoot: base.repoRoot,
    baseBranch: base.baseBranch,
    baseCommit: base.baseCommit,
    snapshotCommit: base.snapshotCommit,
    commit,
    tree: after.tree,
    branch,
    diff: patch.stdout,
    files,
    diffPath,
    skipped,
    exclude: base.exclude,
    problems,
  };
}
