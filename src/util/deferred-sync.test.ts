import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DeferredSync } from "./deferred-sync.ts";

test("flush resolves once every added file and directory was synced; a vanished file is no error", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-dsync-"));
  const errors: string[] = [];
  const ds = new DeferredSync(60_000, 0, (m) => errors.push(m));
  for (let i = 0; i < 5; i++) {
    fs.writeFileSync(path.join(dir, `f${i}`), "x");
    ds.add(path.join(dir, `f${i}`));
  }
  ds.add(dir);
  ds.add(path.join(dir, "gone"));
  // A one-minute delay: flush() must not wait for the timer.
  await ds.flush();
  expect(ds.errors).toBe(0);
  expect(errors).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a path that cannot be fsynced is reported once per batch and counted", async () => {
  const errors: string[] = [];
  const ds = new DeferredSync(60_000, 0, (m) => errors.push(m));
  // procfs files open but refuse fsync (EINVAL)
  ds.add("/proc/self/stat");
  ds.add("/proc/self/status");
  ds.now();
  await ds.flush();
  expect(ds.errors).toBe(2);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toStartWith("Cannot fsync /proc/self/stat");
});

test("paths added while a batch runs go into the next one, and flush waits for it too", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-dsync-"));
  const ds = new DeferredSync(60_000, 0);
  fs.writeFileSync(path.join(dir, "a"), "x");
  ds.add(path.join(dir, "a"));
  ds.now();
  ds.add("/proc/self/stat");
  await ds.flush();
  expect(ds.errors).toBe(1);
  fs.rmSync(dir, { recursive: true, force: true });
});
