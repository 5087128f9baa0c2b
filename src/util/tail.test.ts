import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LINE_CUT_MARKER } from "./lines.ts";
import { type Follower, followFile } from "./tail.ts";

let dir: string;
let followers: Follower[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tail-"));
});
afterEach(async () => {
  await Promise.all(followers.map((f) => f.stop()));
  followers = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

function follow(file: string, opts: Partial<Parameters<typeof followFile>[1]> = {}) {
  const lines: string[] = [];
  const errors: Error[] = [];
  const f = followFile(file, {
    maxLineLength: 1000,
    pollMs: 50,
    onLine: (t) => lines.push(t),
    onError: (e) => errors.push(e),
    ...opts,
  });
  followers.push(f);
  return { f, lines, errors };
}

test("waits for the file (and its directory) to exist, then reads appended lines", async () => {
  const file = path.join(dir, "sub", "out.log");
  const { lines, errors } = follow(file);
  await Bun.sleep(120);
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, "one\ntwo\n");
  await waitFor(() => lines.length === 2);
  fs.appendFileSync(file, "three\r\nfour\rfive\n");
  await waitFor(() => lines.length === 5);
  expect(lines).toEqual(["one", "two", "three", "four", "five"]);
  expect(errors).toEqual([]);
});

test('fromOffset "end" skips what is there; offset() is after the last complete line', async () => {
  const file = path.join(dir, "out.log");
  fs.writeFileSync(file, "old 1\nold 2\n");
  const { f, lines } = follow(file, { fromOffset: "end" });
  const ino = fs.statSync(file).ino;
  expect(f.offset()).toEqual({ ino, offset: 12 });
  fs.appendFileSync(file, "new 1\npart");
  await waitFor(() => lines.length === 1);
  await waitFor(() => f.offset().offset === 18);
  expect(lines).toEqual(["new 1"]);
  expect(f.offset()).toEqual({ ino, offset: 18 });
  await f.stop();
  expect(lines).toEqual(["new 1"]);

  // A new follower from that offset resumes exactly: the partial line is read once it is complete.
  fs.appendFileSync(file, "ial\nnew 3\n");
  const again = follow(file, { fromOffset: 18, expectIno: ino });
  await waitFor(() => again.lines.length === 2);
  expect(again.lines).toEqual(["partial", "new 3"]);
});

test("an offset into another inode starts that file from 0", async () => {
  const file = path.join(dir, "out.log");
  fs.writeFileSync(file, "a\nb\n");
  const { lines } = follow(file, { fromOffset: 2, expectIno: fs.statSync(file).ino + 1 });
  await waitFor(() => lines.length === 2);
  expect(lines).toEqual(["a", "b"]);
});

test("rotation: finishes the renamed file (even its unterminated tail) and continues with the new one", async () => {
  const file = path.join(dir, "out.log");
  const fd = fs.openSync(file, "a");
  const { f, lines } = follow(file);
  for (let i = 0; i < 50; i++) fs.writeSync(fd, `first ${i}\n`);
  await waitFor(() => lines.length === 50);
  const oldIno = f.offset().ino;
  fs.renameSync(file, `${file}.1`);
  // Written to the old file after the rename, before a new one exists.
  fs.writeSync(fd, "late line\nno newline");
  fs.closeSync(fd);
  fs.writeFileSync(file, "second 0\nsecond 1\n");
  await waitFor(() => lines.length === 54);
  expect(lines.slice(48)).toEqual([
    "first 48",
    "first 49",
    "late line",
    "no newline",
    "second 0",
    "second 1",
  ]);
  expect(f.offset().ino).not.toBe(oldIno);
  expect(f.offset().offset).toBe(18);
});

test("truncation restarts at 0", async () => {
  const file = path.join(dir, "out.log");
  fs.writeFileSync(file, "a long first line\nanother long line\n");
  const { lines } = follow(file);
  await waitFor(() => lines.length === 2);
  fs.truncateSync(file, 0);
  await Bun.sleep(150); // Let the follower see the empty file, then write less than before.
  fs.appendFileSync(file, "short\n");
  await waitFor(() => lines.length === 3);
  expect(lines[2]).toBe("short");
});

test("overlong lines are cut at the bound", async () => {
  const file = path.join(dir, "out.log");
  fs.writeFileSync(file, `${"x".repeat(3_000_000)}\nafter\n`);
  const { lines } = follow(file, { maxLineLength: 100 });
  await waitFor(() => lines.length === 2);
  expect(lines[0]).toBe("x".repeat(100) + LINE_CUT_MARKER);
  expect(lines[1]).toBe("after");
});

test("stop(true) drains what is there, including an unterminated last line; stop() does not", async () => {
  const file = path.join(dir, "out.log");
  fs.writeFileSync(file, "");
  const a = follow(file, { pollMs: 60_000 });
  const b = follow(file, { pollMs: 60_000 });
  await Bun.sleep(50);
  fs.appendFileSync(file, "x\ny");
  await a.f.stop(true);
  expect(a.lines).toEqual(["x", "y"]);
  await b.f.stop();
  expect(b.lines).not.toContain("y");
});

test("fs.watch wakes the follower long before the next poll", async () => {
  const file = path.join(dir, "out.log");
  fs.writeFileSync(file, "");
  const { lines } = follow(file, { pollMs: 600_000 });
  await Bun.sleep(50);
  fs.appendFileSync(file, "woken\n");
  await waitFor(() => lines.length === 1);
  expect(lines).toEqual(["woken"]);
});

test("invalid UTF-8 is decoded with replacement characters", async () => {
  const file = path.join(dir, "out.log");
  fs.writeFileSync(file, Buffer.from([0x61, 0xff, 0x62, 0x0a, 0xe2, 0x82, 0xac, 0x0a]));
  const { lines } = follow(file);
  await waitFor(() => lines.length === 2);
  expect(lines).toEqual(["a\ufffdb", "€"]);
});
