/**
 * @module
 * A fix passed verification: keep it (`healing.git.auto_merge`).
 *
 * Without auto_merge nothing happens to the user's branch, index or tree: the fix stays on its
 * branch and the agent's edits stay in the working tree as uncommitted changes.
 *
 * With auto_merge the fix is brought onto the user's branch only when that is *clean*, meaning all
 * of these hold (otherwise nothing changes and the reason is returned):
 * 1. HEAD is still the branch that was checked out when the agent ran (not detached, not switched).
 * 2. That branch still points at the commit recorded then (nobody committed since).
 * 3. Before the incident, the user had no uncommitted change in any file the agent touched — so the
 *    commit that lands on their branch holds only the agent's work, never theirs.
 * 4. Nothing is staged in those files now.
 * 5. Those files are, on disk, exactly as the agent left them (the user did not edit them since).
 *
 * Then, when the whole tree was clean before the incident, the branch is fast-forwarded to the fix
 * commit. Otherwise a commit "base + the agent's files" is made on top of the base commit (the
 * user's unrelated uncommitted work stays uncommitted). Either way the branch moves with a
 * compare-and-swap `update-ref` and the index entries of the agent's files are set to the new
 * commit's, so `git status` shows the same uncommitted work as before minus the agent's edits. The
 * working tree is not written at all: it already holds the result. The fix branch is kept (the
 * ledger names it).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FixCommit } from "./capture.ts";
import { type GitOptions, gitOut, gitZ, runGit } from "./git-runner.ts";
import { snapshotTree } from "./snapshot.ts";

export interface KeepOptions {
  autoMerge: boolean;
  timeoutMs?: number;
}

export interface KeepResult {
  /** True when the user's branch now contains the fix. */
  merged: boolean;
  how: "none" | "fast_forward" | "applied";
  /** Why it was (not) merged, in words for the log and the report. */
  reason: string;
  /** The commit the user's branch now points at, when merged. */
  commit?: string;
}

interface Entry {
  mode: string;
  oid: string;
  path: string;
}

async function treeEntries(treeish: string, paths: string[], g: GitOptions): Promise<Map<string, Entry>> {
  const map = new Map<string, Entry>();
  if (paths.length === 0) return map;
  for (const rec of await gitZ(["ls-tree", "-r", "-z", treeish, "--", ...paths], g)) {
    const tab = rec.indexOf("\t");
    const [mode, , oid] = rec.slice(0, tab).split(" ");
    map.set(rec.slice(tab + 1), { mode: mode!, oid: oid!, path: rec.slice(tab + 1) });
  }
  return map;
}

/** `update-index --index-info` lines that make `paths` look like they do in `entries`. */
function indexInfo(paths: string[], entries: Map<string, Entry>, zeroOid: string): string {
  return paths
    .map((p) => {
      const e = entries.get(p);
      return e ? `${e.mode} ${e.oid}\t${p}\0` : `0 ${zeroOid}\t${p}\0`;
    })
    .join("");
}

/**
 * A commit holding only the agent's edits on top of the base commit: the fix commit itself when the
 * tree was clean before the agent ran, otherwise base + the agent's files (the user's uncommitted
 * work stays out). The caller checks first that the user had not changed the agent's files.
 */
export async function agentOnlyCommit(fix: FixCommit, g: GitOptions): Promise<string> {
  const baseCommit = fix.baseCommit;
  if (baseCommit === null) throw new Error("the fix has no base commit");
  if (fix.snapshotCommit === baseCommit) return fix.commit;
  const paths = fix.files.map((f) => f.path);
  const fixEntries = await treeEntries(fix.commit, paths, g);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-keep-"));
  try {
    const tg = { ...g, env: { GIT_INDEX_FILE: path.join(tmpDir, "index") } };
    await gitOut(["read-tree", baseCommit], tg);
    await gitOut(["update-index", "-z", "--index-info"], {
      ...tg,
      input: indexInfo(paths, fixEntries, "0".repeat(fix.commit.length)),
    });
    const tree = await gitOut(["write-tree"], tg);
    const message = await gitOut(["log", "-1", "--format=%B", fix.commit], g);
    return await gitOut(["commit-tree", "--no-gpg-sign", tree, "-p", baseCommit, "-m", message], g);
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

/** Files of the fix the user had changed (uncommitted) before the agent ran. */
export async function userTouchedFixFiles(fix: FixCommit, g: GitOptions): Promise<string[]> {
  if (fix.baseCommit === null) return [];
  const paths = fix.files.map((f) => f.path);
  return gitZ(
    ["diff", "--name-only", "-z", "--no-relative", fix.baseCommit, fix.snapshotCommit, "--", ...paths],
    g,
  );
}

/** Keep a verified fix; with `autoMerge`, bring it onto the user's branch when that is clean. */
export async function keepFix(fix: FixCommit, opts: KeepOptions): Promise<KeepResult> {
  const no = (reason: string): KeepResult => ({ merged: false, how: "none", reason });
  if (!opts.autoMerge)
    return no(`auto_merge is off: the fix stays on ${fix.branch ?? "its commit"} ${fix.commit}`);
  const g: GitOptions = { cwd: fix.repoRoot, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  const { baseBranch, baseCommit } = fix;
  if (baseBranch === null || baseCommit === null) {
    return no("not merged: HEAD was detached (or had no commit) when the agent ran");
  }
  const ref = `refs/heads/${baseBranch}`;
  const head = await runGit(["symbolic-ref", "-q", "HEAD"], g);
  if (head.code !== 0 || head.stdout.trim() !== ref) {
    return no(`not merged: HEAD is no longer on ${baseBranch}`);
  }
  const tip = await runGit(["rev-parse", "--verify", "-q", `${ref}^{commit}`], g);
  if (tip.stdout.trim() !== baseCommit) return no(`not merged: ${baseBranch} has moved since the agent ran`);

  const paths = fix.files.map((f) => f.path);
  const userDirty = await userTouchedFixFiles(fix, g);
  if (userDirty.length > 0) {
    return no(`not merged: you had uncommitted changes in ${userDirty.join(", ")} before the incident`);
  }
  const staged = await gitZ(["diff-index", "--cached", "--name-only", "-z", baseCommit, "--", ...paths], g);
  if (staged.length > 0) return no(`not merged: staged changes in ${staged.join(", ")}`);
  const now = await snapshotTree(fix.repoRoot, {
    exclude: fix.exclude,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
  const changed = await gitZ(["diff-tree", "-r", "--name-only", "-z", fix.tree, now.tree, "--", ...paths], g);
  if (changed.length > 0) return no(`not merged: ${changed.join(", ")} changed since the fix`);

  const fixEntries = await treeEntries(fix.commit, paths, g);
  const baseEntries = await treeEntries(baseCommit, paths, g);
  const zeroOid = "0".repeat(fix.commit.length);
  const how: KeepResult["how"] = fix.snapshotCommit === baseCommit ? "fast_forward" : "applied";
  const target = await agentOnlyCommit(fix, g);

  // Index first (its lock refuses us if the user is running git right now), then the branch with
  // compare-and-swap; if the branch moved in between, put the index entries back.
  const idx = await runGit(["update-index", "-z", "--index-info"], {
    ...g,
    input: indexInfo(paths, fixEntries, zeroOid),
  });
  if (idx.code !== 0) return no(`not merged: cannot update the index: ${idx.stderr.trim()}`);
  const moved = await runGit(
    ["update-ref", "-m", `autosentry: keep fix for ${fix.incidentId}`, ref, target, baseCommit],
    g,
  );
  if (moved.code !== 0) {
    await runGit(["update-index", "-z", "--index-info"], {
      ...g,
      input: indexInfo(paths, baseEntries, zeroOid),
    });
    return no(`not merged: cannot move ${baseBranch}: ${moved.stderr.trim()}`);
  }
  await runGit(["update-index", "-q", "--refresh"], g);
  const verb = how === "fast_forward" ? "fast-forwarded" : "applied the fix onto";
  return { merged: true, how, reason: `${verb} ${baseBranch} (${target.slice(0, 12)})`, commit: target };
}
