import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gitHistories, gitHistory } from "./git-history.ts";

const made: string[] = [];
/** A fresh temporary directory, removed after the file's tests. */
function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function run(cwd: string, args: string[], stdin?: string): void {
  const r = Bun.spawnSync(args, {
    cwd,
    stdin: stdin === undefined ? "ignore" : Buffer.from(stdin),
    env: {
      ...process.env,
      GIT_AUTHOR_DATE: "2026-01-02T03:04:05Z",
      GIT_COMMITTER_DATE: "2026-01-02T03:04:05Z",
    },
  });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString()}`);
}

function repo(): string {
  const dir = tempDir("git-history-");
  run(dir, ["git", "init", "-q"]);
  run(dir, ["git", "config", "user.name", "Ada Lovelace"]);
  run(dir, ["git", "config", "user.email", "ada@example.com"]);
  return dir;
}

function commit(dir: string, file: string, content: string, message: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), content);
  run(dir, ["git", "--literal-pathspecs", "add", "--", file]);
  run(dir, ["git", "commit", "-q", "-m", message]);
}

test("several files of one repository: commits per file, dirty, untracked, ignored", async () => {
  const dir = repo();
  commit(dir, "a.py", "1\n", "a one");
  commit(dir, "sub/b.py", "1\n", "b one");
  commit(dir, "a.py", "2\n", "a two");
  commit(dir, ".gitignore", "*.log\n", "ignore logs");
  fs.writeFileSync(path.join(dir, "sub/b.py"), "changed\n");
  fs.writeFileSync(path.join(dir, "new.py"), "x\n");
  fs.writeFileSync(path.join(dir, "out.log"), "x\n");
  const files = ["a.py", "sub/b.py", "new.py", "out.log"].map((f) => path.join(dir, f));
  const h = await gitHistories(files);
  expect(h.get(files[0]!)).toEqual({
    dirty: false,
    commits: [
      expect.objectContaining({ subject: "a two", author: "Ada Lovelace", date: "2026-01-02" }),
      expect.objectContaining({ subject: "a one" }),
    ],
  });
  expect(h.get(files[1]!)?.dirty).toBe(true);
  expect(h.get(files[1]!)?.commits.map((c) => c.subject)).toEqual(["b one"]);
  expect(h.get(files[2]!)).toBeNull();
  expect(h.get(files[3]!)).toBeNull();
  expect(fs.existsSync(path.join(dir, ".git", "index.lock"))).toBe(false);
});

test("a file staged but never committed is dirty with no commits", async () => {
  const dir = repo();
  commit(dir, "a.py", "1\n", "first");
  fs.writeFileSync(path.join(dir, "staged.py"), "x\n");
  run(dir, ["git", "add", "staged.py"]);
  expect(await gitHistory(path.join(dir, "staged.py"))).toEqual({ commits: [], dirty: true });
});

test("names that look like pathspec magic or globs are taken literally", async () => {
  const dir = repo();
  commit(dir, "we*ird [1].py", "1\n", "weird");
  commit(dir, ":(top)x.py", "1\n", "magic");
  commit(dir, "wexird 1.py", "1\n", "lookalike");
  const h = await gitHistories([path.join(dir, "we*ird [1].py"), path.join(dir, ":(top)x.py")]);
  expect(h.get(path.join(dir, "we*ird [1].py"))?.commits.map((c) => c.subject)).toEqual(["weird"]);
  expect(h.get(path.join(dir, ":(top)x.py"))?.commits.map((c) => c.subject)).toEqual(["magic"]);
});

test("a file whose last changes are older than the shared log window gets its own log", async () => {
  const dir = repo();
  // One commit touching old.py, then 210 touching busy.py, written in one fast-import.
  const lines: string[] = [];
  let mark = 0;
  const add = (file: string, content: string, msg: string) => {
    mark++;
    lines.push(
      "commit refs/heads/main",
      `mark :${mark}`,
      "committer Ada <ada@example.com> 1767323045 +0000",
      `data ${Buffer.byteLength(msg)}`,
      msg,
      ...(mark > 1 ? [`from :${mark - 1}`] : []),
      `M 100644 inline ${file}`,
      `data ${Buffer.byteLength(content)}`,
      content,
      "",
    );
  };
  add("old.py", "old\n", "old change");
  for (let i = 0; i < 210; i++) add("busy.py", `${i}\n`, `busy ${i}`);
  run(dir, ["git", "fast-import", "--quiet"], `${lines.join("\n")}\n`);
  run(dir, ["git", "checkout", "-q", "-f", "main"]);
  const h = await gitHistories([path.join(dir, "busy.py"), path.join(dir, "old.py")]);
  expect(h.get(path.join(dir, "busy.py"))?.commits.map((c) => c.subject)).toEqual([
    "busy 209",
    "busy 208",
    "busy 207",
  ]);
  expect(h.get(path.join(dir, "old.py"))?.commits.map((c) => c.subject)).toEqual(["old change"]);
});

test("nested repositories answer for their own files; no repository gives null", async () => {
  const outer = repo();
  commit(outer, "top.py", "1\n", "outer commit");
  const inner = path.join(outer, "vendor", "inner");
  fs.mkdirSync(inner, { recursive: true });
  run(inner, ["git", "init", "-q"]);
  run(inner, ["git", "config", "user.name", "Bob"]);
  run(inner, ["git", "config", "user.email", "bob@example.com"]);
  commit(inner, "lib.py", "1\n", "inner commit");
  const loose = tempDir("no-git-");
  fs.writeFileSync(path.join(loose, "x.py"), "x\n");
  const h = await gitHistories([
    path.join(outer, "top.py"),
    path.join(inner, "lib.py"),
    path.join(loose, "x.py"),
  ]);
  expect(h.get(path.join(outer, "top.py"))?.commits[0]?.subject).toBe("outer commit");
  expect(h.get(path.join(inner, "lib.py"))?.commits[0]).toMatchObject({
    subject: "inner commit",
    author: "Bob",
  });
  expect(h.get(path.join(loose, "x.py"))).toBeNull();
});
