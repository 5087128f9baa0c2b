import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeTempRepo, type TempRepo } from "../../tests/fakes/temp-repo.ts";
import { captureFix } from "./capture.ts";
import { snapshotBase } from "./snapshot.ts";

const repos: TempRepo[] = [];
function repo(files: Record<string, string> = {}): TempRepo {
  const r = makeTempRepo(files);
  repos.push(r);
  return r;
}
afterEach(() => {
  for (const r of repos.splice(0)) r.remove();
});

describe("captureFix", () => {
  test("returns null when the agent changed nothing", async () => {
    const r = repo({ "a.txt": "a\n" });
    r.write("mine.txt", "user's untracked work\n");
    const base = await snapshotBase(r.dir);
    const before = r.state();
    expect(await captureFix(base!, "20260101-000000-x")).toBeNull();
    expect(r.state()).toEqual(before);
  });

  test("commits only the agent's edits on the fix branch, parent = the snapshot of the user's dirty tree", async () => {
    const r = repo({
      "train.py": "lr = 0.1\nbatch = 64\n",
      "old.py": "obsolete\n",
      "notes.md": "notes\n",
    });
    // The user's own uncommitted work before the incident.
    r.write("notes.md", "notes, edited by the user\n");
    r.write("scratch.txt", "user's untracked file\n");
    const base = await snapshotBase(r.dir);
    const before = r.state();
    const headBefore = r.git("rev-parse", "HEAD").trim();

    // The agent: edit a tracked file, create a file, delete a file.
    r.write("train.py", "lr = 0.01\nbatch = 64\n");
    r.write("fixes/guard.py", "def guard():\n    pass\n");
    fs.rmSync(path.join(r.dir, "old.py"));
    const statusAfterAgent = r.git("status", "--porcelain=v1", "-z", "--untracked-files=all");
    const filesAfterAgent = r.files();
    const diffPath = path.join(r.dir, ".autosentry/incidents/x/fix/diff.patch");

    const fix = await captureFix(base!, "20260101-000000-oom", { diffPath });

    expect(fix).not.toBeNull();
    expect(fix!.branch).toBe("autosentry/fix-20260101-000000-oom");
    expect(r.git("rev-parse", "refs/heads/autosentry/fix-20260101-000000-oom").trim()).toBe(fix!.commit);
    expect(r.git("rev-parse", `${fix!.commit}^`).trim()).toBe(base!.snapshotCommit);
    expect(r.git("rev-parse", `${base!.snapshotCommit}^`).trim()).toBe(headBefore);
    expect(r.git("log", "-1", "--format=%an <%ae>", fix!.commit).trim()).toBe(
      "autosentry <autosentry@localhost>",
    );
    expect(fix!.files).toEqual([
      { path: "fixes/guard.py", status: "added" },
      { path: "old.py", status: "deleted" },
      { path: "train.py", status: "modified" },
    ]);
    // The diff holds the agent's work and nothing of the user's.
    expect(fix!.diff).toContain("+lr = 0.01");
    expect(fix!.diff).toContain("+def guard():");
    expect(fix!.diff).not.toContain("notes");
    expect(fix!.diff).not.toContain("scratch");
    expect(fs.readFileSync(diffPath, "utf8")).toBe(fix!.diff);
    expect(fix!.diffPath).toBe(diffPath);
    // The user's work is in the parent snapshot, not on their branch.
    expect(r.git("cat-file", "blob", `${base!.snapshotCommit}:notes.md`)).toBe("notes, edited by the user\n");
    expect(r.git("cat-file", "blob", `${fix!.commit}:scratch.txt`)).toBe("user's untracked file\n");
    // HEAD, index, the user's branch and the working tree are untouched; only a branch was added.
    const after = r.state();
    expect(after.head).toBe(before.head);
    expect(after.index).toBe(before.index);
    expect(after.stash).toBe(before.stash);
    expect(after.refs).toEqual({ ...before.refs, [`refs/heads/${fix!.branch}`]: fix!.commit });
    expect(r.files()).toEqual({
      ...filesAfterAgent,
      ".autosentry/incidents/x/fix/diff.patch": expect.any(String),
    });
    fs.rmSync(path.join(r.dir, ".autosentry"), { recursive: true });
    expect(r.git("status", "--porcelain=v1", "-z", "--untracked-files=all")).toBe(statusAfterAgent);
  });

  test("an agent edit in a file the user had already changed carries only the agent's hunk", async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    const r = repo({ "cfg.py": `${lines.join("\n")}\n` });
    const userLines = [...lines];
    userLines[1] = "line 2 (user)";
    r.write("cfg.py", `${userLines.join("\n")}\n`);
    const base = await snapshotBase(r.dir);
    const agentLines = [...userLines];
    agentLines[25] = "line 26 (agent)";
    r.write("cfg.py", `${agentLines.join("\n")}\n`);
    const fix = await captureFix(base!, "i1");
    expect(fix!.diff).toContain("+line 26 (agent)");
    expect(fix!.diff).not.toContain("+line 2 (user)");
    expect(fix!.diff.match(/^@@/gm)).toHaveLength(1);
  });

  test("autosentry's own files (written by the monitor while the agent runs) are not the agent's edits", async () => {
    const r = repo({ "a.txt": "a\n", ".autosentry/autosentry.yaml": "process: {}\n" });
    r.write(".autosentry/state.json", '{"restarts":1}\n');
    const base = await snapshotBase(r.dir);
    r.write(".autosentry/state.json", '{"restarts":2}\n');
    r.write(".autosentry/autosentry.yaml", "process: {command: x}\n");
    r.write(".autosentry/incidents/i/report.md", "# report\n");
    expect(await captureFix(base!, "i")).toBeNull();
    r.write("a.txt", "fixed\n");
    const fix = await captureFix(base!, "i");
    expect(fix!.files).toEqual([{ path: "a.txt", status: "modified" }]);
    expect(fix!.exclude).toEqual(["**/.autosentry"]);
  });

  test("a project in a subdirectory of the repository: its .autosentry is excluded too; custom excludes", async () => {
    const r = repo({ "svc/train.py": "x = 1\n", "svc/data/cache.bin": "c\n" });
    r.write("svc/.autosentry/state.json", "{}\n");
    const base = await snapshotBase(`${r.dir}/svc`, { exclude: ["**/.autosentry", "svc/data"] });
    r.write("svc/.autosentry/state.json", '{"restarts":1}\n');
    r.write("svc/data/cache.bin", "changed by the job\n");
    r.write("svc/data/new.bin", "new\n");
    r.write("svc/train.py", "x = 2\n");
    const fix = await captureFix(base!, "i");
    expect(fix!.files).toEqual([{ path: "svc/train.py", status: "modified" }]);
  });

  test("an existing branch name gets -1, -2, … and is never moved", async () => {
    const r = repo({ "a.txt": "a\n" });
    r.git("branch", "autosentry/fix-inc");
    r.git("branch", "autosentry/fix-inc-1");
    const occupied = r.git("rev-parse", "autosentry/fix-inc").trim();
    const base = await snapshotBase(r.dir);
    r.write("a.txt", "b\n");
    const fix = await captureFix(base!, "inc");
    expect(fix!.branch).toBe("autosentry/fix-inc-2");
    expect(r.git("rev-parse", "autosentry/fix-inc").trim()).toBe(occupied);
    expect(r.git("rev-parse", "autosentry/fix-inc-1").trim()).toBe(occupied);
  });

  test("createBranch: false records the commit and diff but adds no ref", async () => {
    const r = repo({ "a.txt": "a\n" });
    const base = await snapshotBase(r.dir);
    const refsBefore = r.state().refs;
    r.write("a.txt", "b\n");
    const fix = await captureFix(base!, "inc", { createBranch: false, branchPrefix: "x/" });
    expect(fix!.branch).toBeNull();
    expect(fix!.diff).toContain("+b");
    expect(r.state().refs).toEqual(refsBefore);
  });

  test("a custom prefix and an incident id git would refuse still make a valid branch", async () => {
    const r = repo({ "a.txt": "a\n" });
    const base = await snapshotBase(r.dir);
    r.write("a.txt", "b\n");
    const fix = await captureFix(base!, "bad name:with~chars..", { branchPrefix: "fixes/" });
    expect(fix!.branch).not.toBeNull();
    expect(fix!.branch!.startsWith("fixes/bad-name-with-chars")).toBe(true);
    expect(r.git("rev-parse", `refs/heads/${fix!.branch}`).trim()).toBe(fix!.commit);
  });

  test("a binary file the agent edits is captured as a binary patch", async () => {
    const r = repo({ "a.txt": "a\n" });
    r.write("model.bin", new Uint8Array([0, 1, 2, 3, 255, 0, 7]));
    r.commitAll("bin");
    const base = await snapshotBase(r.dir);
    r.write("model.bin", new Uint8Array([0, 1, 2, 3, 254, 0, 7, 9]));
    const fix = await captureFix(base!, "bin");
    expect(fix!.diff).toContain("GIT binary patch");
    expect(fix!.files).toEqual([{ path: "model.bin", status: "modified" }]);
  });
});
