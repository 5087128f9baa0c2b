import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeTempRepo, type TempRepo } from "../../tests/fakes/temp-repo.ts";
import { captureFix, type FixCommit } from "./capture.ts";
import { revertFix } from "./revert.ts";
import { snapshotBase } from "./snapshot.ts";

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.remove();
});

const LINES = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
const text = (lines: string[]): string => `${lines.join("\n")}\n`;
const edit = (lines: string[], at: number, value: string): string[] => {
  const out = [...lines];
  out[at] = value;
  return out;
};

/**
 * A repo where the user has uncommitted work (an edit near the top of train.py, an edited tracked
 * file, an untracked file, a deleted tracked file), then an agent edits, creates and deletes.
 */
async function scenario(): Promise<{ r: TempRepo; fix: FixCommit; preAgent: Record<string, string> }> {
  const r = makeTempRepo({
    "train.py": text(LINES),
    "config.yaml": "lr: 0.1\n",
    "README.md": "readme\n",
    "legacy.py": "old = True\n",
    "obsolete.txt": "the user deletes this\n",
  });
  repos.push(r);
  r.write("train.py", text(edit(LINES, 2, "line 3 (user, uncommitted)")));
  r.write("README.md", "readme, edited by the user\n");
  r.write("scratch/notes.txt", "user's untracked notes\n");
  r.write("logo.bin", new Uint8Array([137, 80, 78, 71, 0, 1, 2]));
  fs.rmSync(path.join(r.dir, "obsolete.txt"));
  const preAgent = r.files();
  const base = await snapshotBase(r.dir);
  // The agent's edits.
  r.write("train.py", text(edit(edit(LINES, 2, "line 3 (user, uncommitted)"), 30, "line 31 (agent)")));
  r.write("config.yaml", "lr: 0.01\n");
  r.write("fixes/new_guard.py", "guard = 1\n");
  r.write("logo.bin", new Uint8Array([137, 80, 78, 71, 9, 9]));
  fs.rmSync(path.join(r.dir, "legacy.py"));
  const fix = await captureFix(base!, "inc-1");
  return { r, fix: fix!, preAgent };
}

describe("revertFix", () => {
  test("undoes exactly the agent's edits; the user's uncommitted work stays byte for byte", async () => {
    const { r, fix, preAgent } = await scenario();
    const before = r.state();
    const res = await revertFix(fix);
    expect(res.ok).toBe(true);
    expect(res.conflicts).toEqual([]);
    expect(res.reverted.sort()).toEqual([
      "config.yaml",
      "fixes/new_guard.py",
      "legacy.py",
      "logo.bin",
      "train.py",
    ]);
    expect(r.files()).toEqual(preAgent);
    expect(r.exists("fixes")).toBe(false);
    // Index, HEAD, refs (the fix branch stays) and stash are untouched.
    expect(r.state()).toEqual(before);
  });

  test("keeps later user edits elsewhere in a file the agent changed", async () => {
    const { r, fix } = await scenario();
    const userLater = edit(
      edit(edit(LINES, 2, "line 3 (user, uncommitted)"), 30, "line 31 (agent)"),
      10,
      "line 11 (user, later)",
    );
    r.write("train.py", text(userLater));
    const res = await revertFix(fix);
    expect(res.ok).toBe(true);
    expect(r.read("train.py")).toBe(
      text(edit(edit(LINES, 2, "line 3 (user, uncommitted)"), 10, "line 11 (user, later)")),
    );
  });

  test("refuses to clobber: a user change to the agent's lines is a conflict and nothing is written", async () => {
    const { r, fix } = await scenario();
    r.write("config.yaml", "lr: 0.02  # the user tuned it further\n");
    const before = r.files();
    const res = await revertFix(fix);
    expect(res.ok).toBe(false);
    expect(res.conflicts.map((c) => c.path)).toEqual(["config.yaml"]);
    expect(res.conflicts[0]!.reason).toContain("changed since the fix");
    expect(res.reverted).toEqual([]);
    expect(r.files()).toEqual(before);
  });

  test("partial: reverts what it can and reports the rest", async () => {
    const { r, fix } = await scenario();
    r.write("fixes/new_guard.py", "guard = 2  # the user edited the agent's new file\n");
    const res = await revertFix(fix, { partial: true });
    expect(res.ok).toBe(false);
    expect(res.conflicts.map((c) => c.path)).toEqual(["fixes/new_guard.py"]);
    expect(r.read("fixes/new_guard.py")).toBe("guard = 2  # the user edited the agent's new file\n");
    expect(r.read("config.yaml")).toBe("lr: 0.1\n");
    expect(r.exists("legacy.py")).toBe(true);
  });

  test("files the user already put back count as reverted", async () => {
    const { r, fix, preAgent } = await scenario();
    r.write("config.yaml", "lr: 0.1\n");
    fs.rmSync(path.join(r.dir, "fixes"), { recursive: true });
    const res = await revertFix(fix);
    expect(res.ok).toBe(true);
    expect(res.alreadyReverted.sort()).toEqual(["config.yaml", "fixes/new_guard.py"]);
    expect(res.reverted.sort()).toEqual(["legacy.py", "logo.bin", "train.py"]);
    expect(r.files()).toEqual(preAgent);
  });

  test("a file the agent deleted and the user recreated differently is a conflict", async () => {
    const { r, fix } = await scenario();
    r.write("legacy.py", "rewritten by the user\n");
    const res = await revertFix(fix);
    expect(res.ok).toBe(false);
    expect(res.conflicts.map((c) => c.path)).toEqual(["legacy.py"]);
    expect(r.read("legacy.py")).toBe("rewritten by the user\n");
  });
});
