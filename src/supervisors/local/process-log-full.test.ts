import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ProcessLog } from "./shim.ts";

// A real full disk: a 64 KiB tmpfs (the test suite runs as root, as `npm test` needs anyway).
let mnt = "";
beforeAll(() => {
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), "as-plog-full-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
  if (r.exitCode !== 0) throw new Error(`mount tmpfs failed: ${r.stderr.toString()} (run as root)`);
});
afterAll(() => {
  Bun.spawnSync(["umount", mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

test("process.log resumes on a line boundary after a full disk (issue 16, finding 9)", () => {
  const warnings: string[] = [];
  const log = new ProcessLog(path.join(mnt, "process.log"), 1024 * 1024, 0, (m) => warnings.push(m));
  const line = (i: number) => `line ${i} ${"x".repeat(90)}\n`;
  let i = 0;
  // Batches of 7 lines until the disk is full, and a few more that fail.
  for (; i < 7 * 200; i += 7) log.write(Array.from({ length: 7 }, (_, k) => line(i + k)).join(""), "latin1");
  expect(warnings).toHaveLength(1); // said once
  Bun.spawnSync(["mount", "-o", "remount,size=4m", mnt]);
  for (let k = 0; k < 10; k++, i++) log.write(line(i), "latin1");
  log.close();
  const text = fs.readFileSync(path.join(mnt, "process.log"), "latin1");
  const lines = text.split("\n").filter((l) => l !== "");
  // Every line is whole or a torn piece of one, never two run together.
  for (const l of lines) expect(l.match(/line \d+/g)?.length ?? 0).toBeLessThanOrEqual(1);
  expect(lines.at(-1)).toBe(line(i - 1).trimEnd());
});
