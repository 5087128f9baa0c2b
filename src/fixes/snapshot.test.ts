import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeTempRepo, type TempRepo } from "../../tests/fakes/temp-repo.ts";
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

/** path → blob content of every file in a commit's tree. */
function treeFiles(r: TempRepo, commit: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of r.git("ls-tree", "-r", "--name-only", "-z", commit).split("\0")) {
    if (p) out[p] = r.git("cat-file", "blob", `${commit}:${p}`);
  }
  return out;
}

describe("snapshotBase", () => {
  test("returns null outside a git work tree", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-nogit-"));
    try {
      expect(await snapshotBase(dir)).toBeNull();
      expect(await snapshotBase(path.join(dir, "missing"))).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a clean tree is its own snapshot: no extra commit", async () => {
    const r = repo({ "train.py": "lr = 0.1\n" });
    const head = r.git("rev-parse", "HEAD").trim();
    const snap = await snapshotBase(path.join(r.dir));
    expect(snap).not.toBeNull();
    expect(snap!.repoRoot).toBe(r.dir);
    expect(snap!.baseBranch).toBe("main");
    expect(snap!.baseCommit).toBe(head);
    expect(snap!.snapshotCommit).toBe(head);
    expect(snap!.snapshotTree).toBe(r.git("rev-parse", "HEAD^{tree}").trim());
  });

  test("captures modified, deleted, staged and untracked files without touching index, HEAD, refs or stash", async () => {
    const r = repo({ "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", ".gitignore": "*.log\n" });
    r.write("a.txt", "a changed\n");
    fs.rmSync(path.join(r.dir, "b.txt"));
    r.write("c.txt", "c staged\n");
    r.git("add", "c.txt");
    r.write("c.txt", "c staged then edited\n");
    r.write("new/untracked.txt", "fresh\n");
    r.write("*.txt", "a file named star\n");
    r.write("debug.log", "ignored\n");
    const statusBefore = r.git("status", "--porcelain=v1", "-z", "--untracked-files=all");
    const before = r.state();
    const filesBefore = r.files();

    const snap = await snapshotBase(r.dir);

    expect(snap).not.toBeNull();
    expect(snap!.snapshotCommit).not.toBe(snap!.baseCommit);
    expect(r.git("rev-parse", `${snap!.snapshotCommit}^`).trim()).toBe(snap!.baseCommit!);
    expect(treeFiles(r, snap!.snapshotCommit)).toEqual({
      ".gitignore": "*.log\n",
      "*.txt": "a file named star\n",
      "a.txt": "a changed\n",
      "c.txt": "c staged then edited\n",
      "new/untracked.txt": "fresh\n",
    });
    expect(r.state()).toEqual(before);
    expect(r.files()).toEqual(filesBefore);
    expect(r.git("status", "--porcelain=v1", "-z", "--untracked-files=all")).toBe(statusBefore);
  });

  test("a same-size edit in the same second as the index write is still seen (racy git)", async () => {
    // Start at the top of a second so the commit and the edit share it.
    await Bun.sleep(1000 - (Date.now() % 1000) + 20);
    const r = repo({ "stats.mjs": "const n = xs.lenght;\n" });
    const base = await snapshotBase(r.dir);
    fs.writeFileSync(path.join(r.dir, "stats.mjs"), "const n = xs.length;\n");
    // The snapshot itself happens later, as it does after an agent or a responder finishes.
    await Bun.sleep(1100);
    const after = await snapshotBase(r.dir);
    expect(after!.snapshotTree).not.toBe(base!.snapshotTree);
    expect(treeFiles(r, after!.snapshotCommit)["stats.mjs"]).toBe("const n = xs.length;\n");
  });

  test("detached HEAD has no base branch", async () => {
    const r = repo({ "a.txt": "1\n" });
    r.write("a.txt", "2\n");
    const second = r.commitAll("second");
    r.git("checkout", "-q", "--detach", "HEAD~1");
    const snap = await snapshotBase(r.dir);
    expect(snap!.baseBranch).toBeNull();
    expect(snap!.baseCommit).not.toBe(second);
    expect(snap!.baseCommit).toBe(r.git("rev-parse", "HEAD").trim());
  });

  test("a repository without commits gets a parentless snapshot", async () => {
    const r = repo();
    r.write("main.py", "print(1)\n");
    const snap = await snapshotBase(r.dir);
    expect(snap!.baseCommit).toBeNull();
    expect(snap!.baseBranch).toBe("main");
    expect(r.git("rev-list", "--parents", "-n", "1", snap!.snapshotCommit).trim()).toBe(snap!.snapshotCommit);
    expect(treeFiles(r, snap!.snapshotCommit)).toEqual({ "main.py": "print(1)\n" });
  });

  test("untracked files over the size limit are left out and listed", async () => {
    const r = repo({ "a.txt": "a\n" });
    r.write("checkpoint.bin", new Uint8Array(4096));
    r.write("small.txt", "s\n");
    const snap = await snapshotBase(r.dir, { maxUntrackedBytes: 1000 });
    expect(snap!.skipped).toEqual(["checkpoint.bin"]);
    expect(Object.keys(treeFiles(r, snap!.snapshotCommit)).sort()).toEqual(["a.txt", "small.txt"]);
  });

  test("works from a subdirectory and reports the top level", async () => {
    const r = repo({ "src/deep/x.py": "x = 1\n" });
    const snap = await snapshotBase(path.join(r.dir, "src/deep"));
    expect(snap!.repoRoot).toBe(r.dir);
  });
});
