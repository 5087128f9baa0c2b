import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  createSpare,
  removeStaleTemps,
  replaceFileSync,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./atomic-write.ts";

// A real full disk: a 256 KiB tmpfs (the test suite runs as root, as `npm test` needs anyway).
let mnt = "";
beforeAll(() => {
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), "as-full-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt]);
  if (r.exitCode !== 0) throw new Error(`mount tmpfs failed: ${r.stderr.toString()} (run as root)`);
});
afterAll(() => {
  Bun.spawnSync(["umount", mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

const big = Buffer.alloc(1024 * 1024, 0x61);

test("a write that fails on a full disk leaves no temporary file and the old content", async () => {
  const target = path.join(mnt, "state.json");
  writeFileAtomicSync(target, "old\n");
  for (let i = 0; i < 5; i++) {
    expect(() => writeFileAtomicSync(target, big)).toThrow(/ENOSPC|no space/i);
    await expect(writeFileAtomic(target, big)).rejects.toThrow(/ENOSPC|no space/i);
  }
  expect(fs.readdirSync(mnt)).toEqual(["state.json"]);
  expect(fs.readFileSync(target, "utf8")).toBe("old\n");
  // Space is still there for a small write afterwards.
  writeFileAtomicSync(target, "new\n");
  expect(fs.readFileSync(target, "utf8")).toBe("new\n");
});

test("a symlink at the target is replaced, the file it points to is untouched", () => {
  const outside = path.join(mnt, "outside.txt");
  fs.writeFileSync(outside, "keep\n");
  const link = path.join(mnt, "link.json");
  fs.symlinkSync(outside, link);
  writeFileAtomicSync(link, "mine\n");
  expect(fs.readFileSync(outside, "utf8")).toBe("keep\n");
  expect(fs.lstatSync(link).isFile()).toBe(true);
});

test("replaceFileSync replaces a file through a rename, creates its directory and leaves no temporary file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-replace-"));
  const target = path.join(dir, "run", "exit-1.json");
  replaceFileSync(target, "one\n");
  expect(fs.readFileSync(target, "utf8")).toBe("one\n");
  replaceFileSync(target, "two\n");
  expect(fs.readFileSync(target, "utf8")).toBe("two\n");
  expect(fs.readdirSync(path.dirname(target))).toEqual(["exit-1.json"]);
  // A failed write leaves nothing behind (the full tmpfs).
  expect(() => replaceFileSync(path.join(mnt, "exit-2.json"), big)).toThrow();
  expect(fs.readdirSync(mnt).filter((n) => n.includes("exit-2"))).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("replaceFileSync with a spare writes through that file (no new one) and leaves none behind", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-spare-"));
  try {
    const target = path.join(dir, "state.json");
    fs.writeFileSync(target, "old\n");
    const spare = await createSpare(target);
    expect(spare).not.toBeNull();
    const ino = fs.statSync(spare!).ino;
    replaceFileSync(target, "new\n", 0o644, spare!);
    expect(fs.readFileSync(target, "utf8")).toBe("new\n");
    expect(fs.statSync(target).ino).toBe(ino);
    expect(fs.readdirSync(dir)).toEqual(["state.json"]);
    // A spare that is not empty (written by someone) is emptied first: nothing of it is left.
    const used = await createSpare(target);
    fs.writeFileSync(used!, "left over, longer than the new content\n");
    replaceFileSync(target, "short\n", 0o644, used!);
    expect(fs.readFileSync(target, "utf8")).toBe("short\n");
    // A spare removed meanwhile: a fresh temporary file as before.
    replaceFileSync(target, "newer\n", 0o644, path.join(dir, ".state.json.tmp-gone"));
    expect(fs.readFileSync(target, "utf8")).toBe("newer\n");
    expect(fs.readdirSync(dir)).toEqual(["state.json"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("removeStaleTemps removes temporary files of dead processes only", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-stale-"));
  try {
    const target = path.join(dir, "state.json");
    const dead = Bun.spawnSync(["true"]).pid;
    const live = Bun.spawn(["sleep", "30"]);
    try {
      for (const name of [
        `.state.json.tmp-${dead}-abc`,
        `.state.json.tmp-${live.pid}-abc`,
        `.state.json.tmp-${process.pid}-abc`,
        `.other.json.tmp-${dead}-abc`,
      ])
        fs.writeFileSync(path.join(dir, name), "");
      removeStaleTemps(target);
      expect(fs.readdirSync(dir).sort()).toEqual(
        [
          `.other.json.tmp-${dead}-abc`,
          `.state.json.tmp-${live.pid}-abc`,
          `.state.json.tmp-${process.pid}-abc`,
        ].sort(),
      );
    } finally {
      live.kill();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("replaceFileSync lets go of the replaced file afterwards: no descriptor is left open", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-hold-"));
  try {
    const target = path.join(dir, "state.json");
    fs.writeFileSync(target, "0\n");
    // Descriptors of this process open on files of `dir` (a replaced file reads "... (deleted)").
    const held = () =>
      fs.readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
        } catch {
          return false;
        }
      });
    for (let i = 1; i <= 20; i++) replaceFileSync(target, `${i}\n`);
    for (let i = 0; i < 100 && held().length > 0; i++) await Bun.sleep(5);
    expect(held()).toEqual([]);
    expect(fs.readFileSync(target, "utf8")).toBe("20\n");
    expect(fs.readdirSync(dir)).toEqual(["state.json"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
