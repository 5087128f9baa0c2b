import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IndexCache } from "./index-cache.ts";
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
  const expected = readIndex(dir).filter((e) => e.fingerprint === "a");
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
