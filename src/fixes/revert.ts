/**
 * @module
 * Undo exactly the agent's edits in the working tree (`healing.regression_action: revert`).
 *
 * The patch between the before-snapshot and the fix commit is regenerated from the objects and
 * applied in reverse with `git apply -R` to the working tree only (never the index): files the
 * agent created are deleted, files it deleted come back, its hunks are taken out. Everything else —
 * the user's uncommitted work from before the incident, files they touched since, untracked and
 * ignored files — keeps every byte. `git apply` needs the hunk's lines to be as the agent left
 * them, so when the user has since changed the same lines the file is reported as a conflict
 * instead of being clobbered.
 *
 * All or nothing by default: when any file conflicts, nothing is changed and the conflicts are
 * reported (the fix stays on its branch and in `fix/diff.patch` for a human). A file the user
 * already put back by hand counts as reverted.
 */

import { type FixCommit, patchArgs } from "./capture.ts";
import { type GitOptions, runGit } from "./git-runner.ts";

export interface RevertConflict {
  path: string;
  reason: string;
}

export interface RevertResult {
  /** True when the working tree no longer holds any of the agent's edits. */
  ok: boolean;
  /** Files this call changed back. */
  reverted: string[];
  /** Files that were already back to their pre-agent state. */
  alreadyReverted: string[];
  conflicts: RevertConflict[];
}

export interface RevertOptions {
  /** Revert the files that can be reverted even when others conflict. Default false. */
  partial?: boolean;
  timeoutMs?: number;
}

interface FilePatch {
  path: string;
  /** The patch text for this one file, as latin1 so that bytes survive the round trip. */
  text: string;
}

/** Split a multi-file git patch into one patch per file. */
function splitPatch(bytes: Uint8Array): FilePatch[] {
  const text = Buffer.from(bytes).toString("latin1");
  const out: FilePatch[] = [];
  const starts: number[] = [];
  const re = /^diff --git /gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) starts.push(m.index);
  for (let i = 0; i < starts.length; i++) {
    const chunk = text.slice(starts[i], starts[i + 1] ?? text.length);
    out.push({ path: pathOf(chunk), text: chunk });
  }
  return out;
}

/** The file a one-file patch is about, from its `---`/`+++` lines (or the header for binaries). */
function pathOf(chunk: string): string {
  const decode = (s: string): string => {
    let p = s;
    if (p.startsWith('"')) {
      try {
        p = JSON.parse(p) as string;
      } catch {
        p = p.slice(1, -1);
      }
    }
    return Buffer.from(p.replace(/^[ab]\//, ""), "latin1").toString("utf8");
  };
  const plus = /^\+\+\+ (.+)$/m.exec(chunk)?.[1];
  if (plus && plus !== "/dev/null") return decode(plus);
  const minus = /^--- (.+)$/m.exec(chunk)?.[1];
  if (minus && minus !== "/dev/null") return decode(minus);
  const header = /^diff --git a\/(.+) b\/(.+)$/m.exec(chunk);
  return header ? Buffer.from(header[2]!, "latin1").toString("utf8") : "?";
}

async function apply(args: string[], patch: string, g: GitOptions) {
  return runGit(["apply", "--whitespace=nowarn", ...args, "-"], {
    ...g,
    input: Buffer.from(patch, "latin1"),
  });
}

function lastLine(s: string): string {
  const lines = s.trim().split("\n");
  return lines.slice(-2).join(" / ") || "patch does not apply";
}

/** Reverse-apply the agent's edits to the working tree, refusing to overwrite later changes. */
export async function revertFix(fix: FixCommit, opts: RevertOptions = {}): Promise<RevertResult> {
  const g: GitOptions = { cwd: fix.repoRoot, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  const patch = await runGit(patchArgs(fix.snapshotCommit, fix.commit), g);
  if (patch.code !== 0) {
    return {
      ok: false,
      reverted: [],
      alreadyReverted: [],
      conflicts: [{ path: "*", reason: `cannot regenerate the fix's patch: ${lastLine(patch.stderr)}` }],
    };
  }
  const files = splitPatch(patch.stdoutBytes);
  const todo: FilePatch[] = [];
  const alreadyReverted: string[] = [];
  const conflicts: RevertConflict[] = [];
  for (const f of files) {
    const back = await apply(["-R", "--check"], f.text, g);
    if (back.code === 0) {
      todo.push(f);
      continue;
    }
    const forward = await apply(["--check"], f.text, g);
    if (forward.code === 0) alreadyReverted.push(f.path);
    else conflicts.push({ path: f.path, reason: `changed since the fix: ${lastLine(back.stderr)}` });
  }
  if (conflicts.length > 0 && !opts.partial) {
    return { ok: false, reverted: [], alreadyReverted, conflicts };
  }
  if (todo.length > 0) {
    const r = await apply(["-R"], todo.map((f) => f.text).join(""), g);
    if (r.code !== 0) {
      // Something changed between the check and now; git apply is atomic, so nothing was written.
      return {
        ok: false,
        reverted: [],
        alreadyReverted,
        conflicts: [...conflicts, ...todo.map((f) => ({ path: f.path, reason: lastLine(r.stderr) }))],
      };
    }
  }
  return { ok: conflicts.length === 0, reverted: todo.map((f) => f.path), alreadyReverted, conflicts };
}
