/**
 * The fix workspace around a real agent run: the Claude Code CLI (devDependency) edits a fixture
 * repository through its Edit and Write tools, driven by the fake Messages API on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLAUDE, useFakeClaude } from "../../tests/fakes/claude-env.ts";
import { makeTempRepo, type TempRepo } from "../../tests/fakes/temp-repo.ts";
import { runClaude } from "../healers/agent/claude-cli.ts";
import { captureFix } from "./capture.ts";
import { keepFix } from "./keep.ts";
import { revertFix } from "./revert.ts";
import { snapshotBase } from "./snapshot.ts";

const T = 60_000;
const claude = useFakeClaude();
const repos: TempRepo[] = [];

afterEach(() => {
  for (const r of repos.splice(0)) r.remove();
});

/** A project with user work in progress, then the agent's run; returns what the tests need. */
async function incident() {
  const r = makeTempRepo({
    "train.py": "import yaml\ncfg = yaml.safe_load(open('train.yaml'))\n",
    "train.yaml": "lr: 0.1\nepochs: 3\n",
    "README.md": "# model\n",
    ".gitignore": "*.ckpt\n",
  });
  repos.push(r);
  // The user's own work before the incident: an uncommitted edit, an untracked file, an ignored file.
  r.write("README.md", "# model\n\nWork in progress by the user.\n");
  r.write("experiments/idea.md", "try cosine schedule\n");
  r.write("model.ckpt", new Uint8Array([1, 2, 3]));
  r.write(".autosentry/autosentry.yaml", "process:\n  command: [python, train.py]\n");
  const beforeAgent = r.files();
  const statusBefore = r.git("status", "--porcelain=v1", "--untracked-files=all");
  const stateBefore = r.state();

  const base = await snapshotBase(r.dir);
  const yaml = path.join(r.dir, "train.yaml");
  claude.fake.setScript([
    { tool_use: { name: "Read", input: { file_path: yaml } } },
    { tool_use: { name: "Edit", input: { file_path: yaml, old_string: "lr: 0.1", new_string: "lr: 0.01" } } },
    {
      tool_use: {
        name: "Write",
        input: {
          file_path: path.join(r.dir, "NOTES-autosentry.md"),
          content: "Lowered lr after divergence.\n",
        },
      },
    },
    { text: "The loss diverged at lr 0.1; lowered it to 0.01.\n\nACTION: restart" },
  ]);
  const run = await runClaude({
    command: [CLAUDE],
    prompt: "Incident 20261122-030405-error-nan: loss is NaN. Fix it.",
    cwd: r.dir,
    env: claude.env(),
    timeoutMs: T,
    maxTurns: 8,
  });
  expect(run.failure).toBeNull();
  // The monitor keeps writing its own files while the agent works.
  r.write(".autosentry/state.json", '{"restarts": 3}\n');
  const incidentDir = path.join(r.dir, ".autosentry/incidents/20261122-030405-error-nan");
  const fix = await captureFix(base!, "20261122-030405-error-nan", {
    diffPath: path.join(incidentDir, "fix/diff.patch"),
  });
  return { r, base: base!, fix: fix!, beforeAgent, statusBefore, stateBefore, run };
}

describe("agent fix on a real repository", () => {
  test(
    "the agent's Edit and Write are committed on the fix branch; the user's work, HEAD and index are untouched",
    async () => {
      const { r, base, fix, stateBefore } = await incident();
      expect(r.read("train.yaml")).toBe("lr: 0.01\nepochs: 3\n");
      expect(fix.branch).toBe("autosentry/fix-20261122-030405-error-nan");
      expect(fix.files).toEqual([
        { path: "NOTES-autosentry.md", status: "added" },
        { path: "train.yaml", status: "modified" },
      ]);
      expect(r.git("rev-parse", `${fix.branch}^`).trim()).toBe(base.snapshotCommit);
      expect(r.git("rev-parse", `${fix.branch}^^`).trim()).toBe(base.baseCommit!);
      expect(r.git("show", `${fix.branch}:README.md`)).toBe("# model\n\nWork in progress by the user.\n");
      expect(r.git("diff", "--name-only", `${fix.branch}^`, fix.branch!).trim().split("\n")).toEqual([
        "NOTES-autosentry.md",
        "train.yaml",
      ]);
      expect(fs.readFileSync(fix.diffPath!, "utf8")).toBe(fix.diff);
      expect(fix.diff).toContain("-lr: 0.1\n+lr: 0.01");
      const after = r.state();
      expect(after.head).toBe(stateBefore.head);
      expect(after.index).toBe(stateBefore.index);
      expect(after.stash).toBe(stateBefore.stash);
      expect(after.refs).toEqual({ ...stateBefore.refs, [`refs/heads/${fix.branch}`]: fix.commit });
      // Keeping without auto_merge changes nothing.
      const files = r.files();
      expect((await keepFix(fix, { autoMerge: false })).merged).toBe(false);
      expect(r.files()).toEqual(files);
    },
    T,
  );

  test(
    "revert undoes exactly the agent's edits; the user's edit made before the incident stays byte for byte",
    async () => {
      const { r, fix, beforeAgent, statusBefore } = await incident();
      const res = await revertFix(fix);
      expect(res).toEqual({
        ok: true,
        reverted: ["NOTES-autosentry.md", "train.yaml"],
        alreadyReverted: [],
        conflicts: [],
      });
      const now = r.files();
      // Everything is as before the agent ran, except autosentry's own files written since.
      for (const k of Object.keys(now)) if (k.startsWith(".autosentry/")) delete now[k];
      const expected = { ...beforeAgent };
      for (const k of Object.keys(expected)) if (k.startsWith(".autosentry/")) delete expected[k];
      expect(now).toEqual(expected);
      expect(r.read("README.md")).toBe("# model\n\nWork in progress by the user.\n");
      fs.rmSync(path.join(r.dir, ".autosentry/incidents"), { recursive: true });
      fs.rmSync(path.join(r.dir, ".autosentry/state.json"));
      expect(r.git("status", "--porcelain=v1", "--untracked-files=all")).toBe(statusBefore);
    },
    T,
  );
});
