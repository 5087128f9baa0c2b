import { afterEach, describe, expect, test } from "bun:test";
import { makeTempRepo, type TempRepo } from "../../tests/fakes/temp-repo.ts";
import { captureFix, type FixCommit } from "./capture.ts";
import { keepFix } from "./keep.ts";
import { snapshotBase } from "./snapshot.ts";

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.remove();
});

async function agentRun(r: TempRepo, edits: Record<string, string>): Promise<FixCommit> {
  const base = await snapshotBase(r.dir);
  for (const [p, c] of Object.entries(edits)) r.write(p, c);
  return (await captureFix(base!, "inc-7"))!;
}

function fresh(): TempRepo {
  const r = makeTempRepo({ "train.py": "lr = 0.1\n", "notes.md": "notes\n" });
  repos.push(r);
  return r;
}

const porcelain = (r: TempRepo): string => r.git("status", "--porcelain=v1", "--untracked-files=all");

describe("keepFix", () => {
  test("without auto_merge nothing changes", async () => {
    const r = fresh();
    const fix = await agentRun(r, { "train.py": "lr = 0.01\n" });
    porcelain(r);
    const before = r.state();
    const files = r.files();
    const res = await keepFix(fix, { autoMerge: false });
    expect(res.merged).toBe(false);
    expect(res.how).toBe("none");
    expect(res.reason).toContain("auto_merge is off");
    expect(r.state()).toEqual(before);
    expect(r.files()).toEqual(files);
  });

  test("clean tree: fast-forwards the user's branch to the fix commit, tree untouched, status clean", async () => {
    const r = fresh();
    const fix = await agentRun(r, { "train.py": "lr = 0.01\n", "guard.py": "g = 1\n" });
    const files = r.files();
    const res = await keepFix(fix, { autoMerge: true });
    expect(res).toMatchObject({ merged: true, how: "fast_forward", commit: fix.commit });
    expect(r.git("rev-parse", "main").trim()).toBe(fix.commit);
    expect(r.git("symbolic-ref", "HEAD").trim()).toBe("refs/heads/main");
    expect(porcelain(r)).toBe("");
    expect(r.files()).toEqual(files);
    expect(r.git("rev-parse", `refs/heads/${fix.branch}`).trim()).toBe(fix.commit);
  });

  test("unrelated uncommitted work: applies only the agent's files on top of the base; the user's work stays uncommitted", async () => {
    const r = fresh();
    const baseCommit = r.git("rev-parse", "HEAD").trim();
    r.write("notes.md", "notes, user edit\n");
    r.write("todo.txt", "untracked user file\n");
    const fix = await agentRun(r, { "train.py": "lr = 0.01\n" });
    const files = r.files();
    const res = await keepFix(fix, { autoMerge: true });
    expect(res.merged).toBe(true);
    expect(res.how).toBe("applied");
    const main = r.git("rev-parse", "main").trim();
    expect(main).toBe(res.commit!);
    expect(r.git("rev-parse", "main^").trim()).toBe(baseCommit);
    expect(r.git("diff", "--name-only", baseCommit, main).trim()).toBe("train.py");
    expect(r.git("show", "main:train.py")).toBe("lr = 0.01\n");
    expect(r.git("show", "main:notes.md")).toBe("notes\n");
    expect(porcelain(r)).toBe(" M notes.md\n?? todo.txt\n");
    expect(r.files()).toEqual(files);
  });

  test("staged user work in other files stays staged", async () => {
    const r = fresh();
    r.write("notes.md", "staged notes\n");
    r.git("add", "notes.md");
    const fix = await agentRun(r, { "train.py": "lr = 0.01\n" });
    const res = await keepFix(fix, { autoMerge: true });
    expect(res.how).toBe("applied");
    expect(porcelain(r)).toBe("M  notes.md\n");
  });

  test("refused when the user had uncommitted changes in a file the agent touched", async () => {
    const r = fresh();
    r.write("train.py", "lr = 0.1\nseed = 1\n");
    const fix = await agentRun(r, { "train.py": "lr = 0.01\nseed = 1\n" });
    const before = r.state();
    const res = await keepFix(fix, { autoMerge: true });
    expect(res.merged).toBe(false);
    expect(res.reason).toContain("uncommitted changes in train.py");
    expect(r.state()).toEqual(before);
  });

  test("refused when the branch moved, HEAD switched, or the user edited the fixed file since", async () => {
    const r = fresh();
    const fix = await agentRun(r, { "train.py": "lr = 0.01\n" });
    r.write("other.txt", "x\n");
    r.git("add", "other.txt");
    r.git("commit", "-q", "-m", "user commit");
    expect((await keepFix(fix, { autoMerge: true })).reason).toContain("main has moved");

    const r2 = fresh();
    const fix2 = await agentRun(r2, { "train.py": "lr = 0.01\n" });
    r2.git("switch", "-q", "-c", "elsewhere");
    expect((await keepFix(fix2, { autoMerge: true })).reason).toContain("no longer on main");

    const r3 = fresh();
    const fix3 = await agentRun(r3, { "train.py": "lr = 0.01\n" });
    r3.write("train.py", "lr = 0.05\n");
    const before = r3.state();
    const res3 = await keepFix(fix3, { autoMerge: true });
    expect(res3.merged).toBe(false);
    expect(res3.reason).toContain("train.py changed since the fix");
    expect(r3.state()).toEqual(before);
  });

  test("refused on a detached HEAD", async () => {
    const r = fresh();
    r.git("checkout", "-q", "--detach");
    const fix = await agentRun(r, { "train.py": "lr = 0.01\n" });
    const res = await keepFix(fix, { autoMerge: true });
    expect(res.merged).toBe(false);
    expect(res.reason).toContain("detached");
  });
});
