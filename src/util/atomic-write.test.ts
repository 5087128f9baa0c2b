import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic, writeFileAtomicSync } from "./atomic-write.ts";

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
