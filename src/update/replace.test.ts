import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseSums, previousPath, rollback, smokeTest, swapIn, unpack, verifySha256 } from "./replace.ts";

function dir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "upd-replace-"));
}

function script(file: string, version: string): void {
  fs.writeFileSync(file, `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
}

test("parseSums reads sha256sum output, text and binary mode", () => {
  const a = "a".repeat(64);
  const b = "B".repeat(64);
  expect([...parseSums(`${a}  x.tar.gz\n${b} *y.tar.xz\nbad line\n`)]).toEqual([
    ["x.tar.gz", a],
    ["y.tar.xz", "b".repeat(64)],
  ]);
});

test("swapIn renames over the old path (a new inode) and keeps the old inode as .previous; rollback swaps back", () => {
  const d = dir();
  const exe = path.join(d, "autosentry");
  script(exe, "1.0.0");
  const oldIno = fs.statSync(exe).ino;
  const oldBytes = fs.readFileSync(exe);
  const fresh = path.join(d, ".new");
  script(fresh, "1.1.0");
  swapIn(fresh, exe);
  expect(smokeTest(exe)).toBe("1.1.0");
  expect(fs.statSync(previousPath(exe)).ino).toBe(oldIno);
  expect(fs.statSync(exe).ino).not.toBe(oldIno);
  rollback(exe);
  expect(fs.readFileSync(exe).equals(oldBytes)).toBe(true);
  expect(fs.statSync(exe).ino).toBe(oldIno);
  expect(smokeTest(previousPath(exe))).toBe("1.1.0");
  expect(fs.readdirSync(d).sort()).toEqual(["autosentry", "autosentry.previous"]);
});

test("rollback without .previous refuses and changes nothing", () => {
  const d = dir();
  const exe = path.join(d, "autosentry");
  script(exe, "1.0.0");
  expect(() => rollback(exe)).toThrow(`Nothing to roll back to: ${exe}.previous does not exist`);
  expect(fs.readdirSync(d)).toEqual(["autosentry"]);
});

test("verifySha256 names both digests; smokeTest explains a binary that does not run", async () => {
  const d = dir();
  const f = path.join(d, "f");
  fs.writeFileSync(f, "hello");
  await verifySha256(f, "f", "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824");
  await expect(verifySha256(f, "f", "0".repeat(64))).rejects.toThrow(
    `Checksum mismatch for f: expected ${"0".repeat(64)}, got 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824`,
  );
  fs.writeFileSync(f, "#!/bin/sh\necho broken >&2\nexit 3\n");
  expect(() => smokeTest(f)).toThrow(
    "The new binary does not run on this machine (exit 3: broken); nothing was changed",
  );
});

test("unpack takes the autosentry member of a tar.gz and refuses a truncated one", async () => {
  const d = dir();
  script(path.join(d, "autosentry"), "2.0.0");
  const tgz = path.join(d, "a.tar.gz");
  expect(Bun.spawnSync(["tar", "-czf", tgz, "-C", d, "autosentry"]).exitCode).toBe(0);
  const out = path.join(d, "out");
  await unpack(tgz, "autosentry-linux-x64.tar.gz", out);
  expect(smokeTest(out)).toBe("2.0.0");
  const bytes = fs.readFileSync(tgz);
  fs.writeFileSync(tgz, bytes.subarray(0, bytes.length - 10));
  await expect(unpack(tgz, "autosentry-linux-x64.tar.gz", path.join(d, "out2"))).rejects.toThrow(
    "Cannot unpack autosentry-linux-x64.tar.gz: damaged or truncated archive",
  );
});
