/**
 * End-to-end (issue 16, finding 1): `explain -o PATH` writes like a shell redirection. It follows
 * symlinks, writes into devices and FIFOs (never replacing them), `-` is stdout, the project's own
 * state files are refused, and a missing parent directory is an error, never created.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeProject, run } from "./helpers.ts";

let dir = "";
beforeAll(async () => {
  dir = makeProject({}, "process:\n  command: [sh, -c, 'echo hello from the job']\n");
  const r = await run(["run"], { cwd: dir });
  expect(r.code).toBe(0);
});

describe("explain -o", () => {
  test("a device node stays a device node (mknod'ed null device)", async () => {
    const dev = path.join(dir, "null-dev");
    const mk = Bun.spawnSync(["mknod", dev, "c", "1", "3"]);
    expect(mk.exitCode).toBe(0);
    const r = await run(["explain", "-o", dev], { cwd: dir });
    expect(r.code).toBe(0);
    const st = fs.lstatSync(dev);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(fs.statSync("/dev/null").rdev);
  });

  test("a symlink is followed: the target gets the text, the link stays a link", async () => {
    const target = path.join(dir, "real.md");
    fs.writeFileSync(target, "old\n");
    const link = path.join(dir, "link.md");
    fs.symlinkSync(target, link);
    const r = await run(["explain", "-o", link], { cwd: dir });
    expect(r.code).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, "utf8")).toContain("hello from the job");
  });

  test("a FIFO is written into, and its reader gets the bundle", async () => {
    const fifo = path.join(dir, "pipe");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const reader = Bun.spawn(["cat", fifo], { stdout: "pipe" });
    const textP = new Response(reader.stdout).text();
    const r = await run(["explain", "-o", fifo], { cwd: dir });
    const stillFifo = fs.lstatSync(fifo).isFIFO();
    if (!stillFifo) reader.kill(); // replaced: the reader would wait forever on the old FIFO
    expect(stillFifo).toBe(true);
    expect(r.code).toBe(0);
    expect(await textP).toContain("hello from the job");
  });

  test("`-` is stdout, and no file named - is created", async () => {
    const r = await run(["explain", "-o", "-"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("hello from the job");
    expect(fs.existsSync(path.join(dir, "-"))).toBe(false);
  });

  test("a missing parent directory is an error and is not created", async () => {
    const r = await run(["explain", "-o", path.join(dir, "nope", "deeper", "x.md")], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("does not exist");
    expect(r.stderr).not.toContain("    at ");
    expect(fs.existsSync(path.join(dir, "nope"))).toBe(false);
  });

  test("the project's own state is refused, also through a symlink, and left as it was", async () => {
    const state = path.join(dir, ".autosentry", "state.json");
    const before = fs.readFileSync(state, "utf8");
    const direct = await run(["explain", "-o", ".autosentry/state.json"], { cwd: dir });
    expect(direct.code).toBe(1);
    expect(direct.stderr).toContain("Refusing to write");
    const link = path.join(dir, "sneaky.md");
    fs.symlinkSync(state, link);
    const via = await run(["explain", "-o", link], { cwd: dir });
    expect(via.code).toBe(1);
    expect(fs.readFileSync(state, "utf8")).toBe(before);
    const log = await run(["explain", "-o", ".autosentry/logs/process.log"], { cwd: dir });
    expect(log.code).toBe(1);
  });

  test("a directory is an error, not replaced", async () => {
    fs.mkdirSync(path.join(dir, "adir"));
    const r = await run(["explain", "-o", "adir"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(fs.statSync(path.join(dir, "adir")).isDirectory()).toBe(true);
  });
});
