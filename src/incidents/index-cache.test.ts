import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IndexCache, KEEP_NEWEST, RECENT_IDS } from "./index-cache.ts";
import { readIndex } from "./read.ts";

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "index-cache-"));
  file = path.join(dir, "index.jsonl");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const line = (id: string, fp: string, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ id, time: `t-${id}`, kind: "error", detector: "d", message: "m", fingerprint: fp, ...extra })}\n`;
const id = (n: number) => `2026-01-01T00-00-${String(n).padStart(2, "0")}Z-error-d`;

test("agrees with readIndex: first position per id, last values, other fingerprints apart", () => {
  fs.writeFileSync(file, line(id(1), "a") + line(id(2), "b") + line(id(3), "a"));
  const cache = new IndexCache(file);
  expect(cache.same("a").count).toBe(2);
  // An outcome line updates id 1 in place; a foreign writer appends id 4; a torn line is skipped.
  fs.appendFileSync(file, line(id(1), "a", { action: "restart" }) + line(id(4), "a") + "{torn");
  const got = cache.same("a");
  // The fields the store and the vault read, with readIndex's values for each.
  const expected = readIndex(dir)
    .filter((e) => e.fingerprint === "a")
    .map(({ id, time, detector, message, exception_type, rule, action, source }) => ({
      id,
      time,
      detector,
      message,
      exception_type,
      rule,
      action,
      source,
    }));
  expect(got.count).toBe(expected.length);
  expect(got.first).toEqual(expected[0]!);
  expect(got.newest(10)).toEqual(expected);
  expect(got.first?.action).toBe("restart");
  // The torn line is read once it is complete.
  fs.appendFileSync(file, `${line(id(5), "a").slice(5)}`);
  expect(cache.same("a").count).toBe(3);
});

test("reads only what was appended since the last look; a shorter index is read again", () => {
  fs.writeFileSync(file, line(id(1), "a"));
  const cache = new IndexCache(file);
  expect(cache.same("a").count).toBe(1);
  // Rewrite the bytes already read (same length, other fingerprint): not read again.
  const text = fs.readFileSync(file, "utf8").replace('"fingerprint":"a"', '"fingerprint":"z"');
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, text, 0);
  fs.closeSync(fd);
  fs.appendFileSync(file, line(id(2), "a"));
  expect(cache.same("a").count).toBe(2);
  expect(cache.same("z").count).toBe(0);
  // Shrunk (rewritten by hand): read from the start.
  fs.writeFileSync(file, line(id(3), "z"));
  expect(cache.same("a").count).toBe(0);
  expect(cache.same("z").count).toBe(1);
  fs.rmSync(file);
  expect(cache.same("z").count).toBe(0);
});

test("keeps a bounded amount per fingerprint however long the history", () => {
  // 5,000 incidents of one failure, each with its outcome line, and one of another failure.
  const n = 5000;
  const many = (k: number) => `2026-01-01T00-00-00Z-error-d-${String(k).padStart(4, "0")}`;
  let text = line(id(1), "b");
  for (let k = 1; k <= n; k++) text += line(many(k), "a") + line(many(k), "a", { action: "restart" });
  fs.writeFileSync(file, text);
  const cache = new IndexCache(file);
  const got = cache.same("a");
  expect(got.count).toBe(n);
  expect(got.first?.id).toBe(many(1));
  expect(got.first?.action).toBe("restart");
  expect(got.newest(10).map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => many(n - 9 + i)));
  expect(got.newest(10).every((e) => e.action === "restart")).toBe(true);
  // Never more than KEEP_NEWEST, however many are asked for.
  expect(got.newest(n)).toHaveLength(KEEP_NEWEST);
  expect(cache.same("b").count).toBe(1);
  // Only the fields the readers use are kept.
  expect(Object.keys(got.first!).sort()).toEqual(
    ["action", "detector", "exception_type", "id", "message", "rule", "source", "time"].sort(),
  );
  // An outcome line for an incident read just before is still an update, not a new incident.
  fs.appendFileSync(file, line(many(n - RECENT_IDS + 1), "a", { action: "abort" }));
  expect(cache.same("a").count).toBe(n);
});

test("an update that changes the fingerprint moves the incident", () => {
  fs.writeFileSync(file, line(id(1), "a") + line(id(2), "a") + line(id(3), "b"));
  const cache = new IndexCache(file);
  fs.appendFileSync(file, line(id(1), "b"));
  expect(cache.same("a").count).toBe(1);
  expect(cache.same("a").first?.id).toBe(id(2));
  expect(cache.same("b").count).toBe(2);
  expect(
    cache
      .same("b")
      .newest(5)
      .map((e) => e.id),
  ).toEqual([id(3), id(1)]);
});
