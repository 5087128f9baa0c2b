import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CACHE_TTL_MS, cacheFile, checkForUpdate } from "./check.ts";
import type { ReleaseSource } from "./source.ts";

function source(answers: Array<string | Error>): ReleaseSource & { calls: boolean[] } {
  const calls: boolean[] = [];
  return {
    label: "test-source",
    calls,
    async latest(pre: boolean) {
      calls.push(pre);
      const a = answers.shift();
      if (a === undefined) throw new Error("no more answers");
      if (a instanceof Error) throw a;
      return a;
    },
    async download() {
      throw new Error("not used");
    },
  };
}

test("asks once a day per source and channel; --no-cache asks again; failures are not cached", async () => {
  const env = { XDG_CACHE_HOME: fs.mkdtempSync(path.join(os.tmpdir(), "upd-cache-")) };
  const src = source(["1.1.0", "1.2.0-rc.1", new Error("Cannot reach x: ECONNREFUSED"), "1.3.0"]);
  const base = { source: src, current: "1.0.0", target: "linux-x64", env };
  const t0 = Date.parse("2026-12-01T00:00:00Z");
  const a = await checkForUpdate({ ...base, pre: false, useCache: true, now: t0 });
  expect(a).toMatchObject({
    latest: "1.1.0",
    is_outdated: true,
    cached: false,
    error: null,
    channel: "stable",
  });
  const b = await checkForUpdate({ ...base, pre: false, useCache: true, now: t0 + CACHE_TTL_MS - 1 });
  expect(b).toMatchObject({ latest: "1.1.0", cached: true, checked_at: a.checked_at });
  const c = await checkForUpdate({ ...base, pre: true, useCache: true, now: t0 });
  expect(c).toMatchObject({ latest: "1.2.0-rc.1", channel: "pre", cached: false });
  const d = await checkForUpdate({ ...base, pre: false, useCache: false, now: t0 });
  expect(d).toMatchObject({ latest: null, is_outdated: false, error: "Cannot reach x: ECONNREFUSED" });
  // The failure did not replace the cached answer.
  const e = await checkForUpdate({ ...base, pre: false, useCache: true, now: t0 + 1000 });
  expect(e).toMatchObject({ latest: "1.1.0", cached: true });
  const f = await checkForUpdate({ ...base, pre: false, useCache: true, now: t0 + CACHE_TTL_MS });
  expect(f).toMatchObject({ latest: "1.3.0", cached: false });
  expect(src.calls).toEqual([false, true, false, false]);
  const stored = JSON.parse(fs.readFileSync(cacheFile(env), "utf8"));
  expect(stored.entries["test-source stable"].latest).toBe("1.3.0");
  // The newest answer at the top level, in the Python tool's shape (doctor reads it).
  expect(stored).toMatchObject({ checked_at: f.checked_at, latest: "1.3.0", allow_pre: false });
});

test("up to date and newer-than-latest are not outdated; a corrupt cache is ignored", async () => {
  const env = { XDG_CACHE_HOME: fs.mkdtempSync(path.join(os.tmpdir(), "upd-cache-")) };
  fs.mkdirSync(path.join(env.XDG_CACHE_HOME, "autosentry"));
  fs.writeFileSync(cacheFile(env), "{not json");
  const r = await checkForUpdate({
    source: source(["1.0.0"]),
    current: "1.0.0",
    target: "t",
    pre: false,
    useCache: true,
    env,
  });
  expect(r).toMatchObject({ latest: "1.0.0", is_outdated: false, cached: false });
  const s = await checkForUpdate({
    source: source(["1.0.0"]),
    current: "1.1.0-rc.1",
    target: "t",
    pre: false,
    useCache: false,
    env,
  });
  expect(s.is_outdated).toBe(false);
});
