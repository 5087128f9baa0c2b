import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { appendJsonl, readJsonl } from "./jsonl.ts";
import { JsonlAppender } from "./jsonl-appender.ts";
import { SymlinkRefusedError } from "./safe-open.ts";

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-appender-"));
  file = path.join(dir, "logs", "events.jsonl");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const lines = () => fs.readFileSync(file, "utf8");

test("appends whole lines through one open file, creating the directory", () => {
  const a = new JsonlAppender(file);
  a.append({ n: 1 });
  const opened = () =>
    fs.readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  const [fd] = opened();
  for (let n = 2; n <= 10; n++) a.append({ n }, n === 10);
  expect(opened()).toEqual([fd!]);
  expect(readJsonl(file).records.map((r) => r.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  a.close();
});

test("a file rotated away or removed is followed by a new file at the path", () => {
  const a = new JsonlAppender(file);
  a.append({ n: 1 });
  fs.renameSync(file, `${file}.1`);
  a.append({ n: 2 });
  expect(lines()).toBe('{"n":2}\n');
  expect(fs.readFileSync(`${file}.1`, "utf8")).toBe('{"n":1}\n');
  fs.rmSync(file);
  a.append({ n: 3 });
  expect(lines()).toBe('{"n":3}\n');
  a.close();
});

test("another writer's lines are kept, and its torn last line is ended before the next record", () => {
  const a = new JsonlAppender(file);
  a.append({ n: 1 });
  appendJsonl(file, { other: true });
  a.append({ n: 2 });
  fs.appendFileSync(file, '{"torn":');
  a.append({ n: 3 });
  expect(lines()).toBe('{"n":1}\n{"other":true}\n{"n":2}\n{"torn":\n{"n":3}\n');
  const read = readJsonl(file);
  expect(read.records.map((r) => r.n ?? "other")).toEqual([1, "other", 2, 3]);
  expect(read.badLines).toEqual([4]);
  a.close();
});

test("a file torn before the first record is ended first", () => {
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, '{"a":1}\n{"half');
  const a = new JsonlAppender(file);
  a.append({ n: 1 });
  expect(lines()).toBe('{"a":1}\n{"half\n{"n":1}\n');
  a.close();
});

test("a symlink put at the path is refused, not written through", () => {
  const a = new JsonlAppender(file);
  a.append({ n: 1 });
  const elsewhere = path.join(dir, "elsewhere.jsonl");
  fs.writeFileSync(elsewhere, "");
  fs.rmSync(file);
  fs.symlinkSync(elsewhere, file);
  expect(() => a.append({ n: 2 })).toThrow(SymlinkRefusedError);
  expect(fs.readFileSync(elsewhere, "utf8")).toBe("");
  a.close();
});
