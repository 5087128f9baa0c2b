/**
 * @module
 * Fix workspace: the public face of src/fixes' git layer.
 *
 * Lifecycle of one agent run:
 * 1. {@link snapshotBase} before the agent runs: base branch, base commit, and a commit of the
 *    working tree as it is (the user's uncommitted work included), made without touching the
 *    index, HEAD, the stash or the tree.
 * 2. {@link captureFix} after it: the agent's own edits become `fix/diff.patch` and a commit on
 *    `<branch_prefix><incident-id>` whose parent is that snapshot (no checkout).
 * 3. At the end of the verification window, {@link keepFix} (with `auto_merge`, only when clean)
 *    or {@link revertFix} (`regression_action: revert`, exactly the agent's edits).
 *
 * Never used here: `git checkout`/`switch` of the user's branch, `reset --hard`, `clean`, `stash`.
 */
export {
  type CaptureOptions,
  captureFix,
  type FixCommit,
  type FixFile,
  type FixFileStatus,
} from "./capture.ts";
export { GitError, type GitResult, runGit } from "./git-runner.ts";
export { type KeepOptions, type KeepResult, keepFix } from "./keep.ts";
export { type RevertConflict, type RevertOptions, type RevertResult, revertFix } from "./revert.ts";
export {
  type BaseSnapshot,
  findRepoRoot,
  type SnapshotOptions,
  snapshotBase,
  snapshotTree,
  type TreeSnapshot,
} from "./snapshot.ts";
