import { expect, test } from "bun:test";
import * as fs from "node:fs";
import { releasableRanges, trimExecutablePages } from "./working-set.ts";

const EXE = "/opt/bin/autosentry";

/** One smaps entry: the header line and the fields the selection reads. */
function entry(range: string, perms: string, name: string, rss: number, anon = 0, dirty = 0): string {
  return [
    `${range} ${perms} 00000000 fd:01 1234${name ? `                      ${name}` : ""}`,
    `Size:              64 kB`,
    `Rss:             ${rss} kB`,
    `Pss:             ${rss} kB`,
    `Shared_Clean:        0 kB`,
    `Shared_Dirty:        0 kB`,
    `Private_Clean:   ${rss - dirty} kB`,
    `Private_Dirty:   ${dirty} kB`,
    `Anonymous:       ${anon} kB`,
    `VmFlags: rd mr mw me`,
  ].join("\n");
}

test("only the executable's private read-only mappings without a page of the process's own are released", () => {
  const smaps = [
    entry("00200000-01a39000", "r--p", EXE, 5924), // read-only data: released
    entry("01a40000-0684a000", "r-xp", EXE, 31748), // machine code: released
    entry("0684a000-06867000", "r--p", EXE, 116, 116, 116), // relocated, then made read-only: kept
    entry("06867000-07780000", "rw-p", EXE, 5400, 300, 300), // writable: kept
    entry("07780000-07790000", "r--s", EXE, 64), // shared: kept
    entry("7f0000000000-7f0000100000", "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6", 1152), // not ours
    entry("7f1000000000-7f1000400000", "rw-p", "", 4000, 4000), // anonymous
    entry("7f2000000000-7f2000010000", "r--p", "/opt/bin/autosentry-old", 64), // another file
  ].join("\n");
  expect(releasableRanges(smaps, EXE)).toEqual([
    { start: 0x200000, length: 0x1a39000 - 0x200000, resident: 5924 * 1024 },
    { start: 0x1a40000, length: 0x684a000 - 0x1a40000, resident: 31748 * 1024 },
  ]);
  expect(releasableRanges("", EXE)).toEqual([]);
});

test.if(process.platform === "linux")(
  "a real trim of this process releases its executable's code, and the process goes on working",
  async () => {
    const exe = fs.readlinkSync("/proc/self/exe");
    const before = releasableRanges(fs.readFileSync("/proc/self/smaps", "utf8"), exe);
    expect(before.length).toBeGreaterThan(0); // the runtime's code is such a mapping
    const r = await trimExecutablePages();
    expect(r).not.toBeNull();
    expect(r!.mappings).toBe(before.length);
    // Everything still runs: code pages come back on use (a dirty page dropped would crash here).
    Bun.gc(true);
    const json = JSON.parse(JSON.stringify({ a: [1, 2, 3], b: "x".repeat(1000) }));
    expect(json.a).toEqual([1, 2, 3]);
    expect(await Bun.$`echo ok`.text()).toBe("ok\n");
    // A second trim is as safe as the first.
    expect(await trimExecutablePages()).not.toBeNull();
  },
);

test("AUTOSENTRY_TRIM=0 turns the trim off", async () => {
  const before = process.env["AUTOSENTRY_TRIM"];
  process.env["AUTOSENTRY_TRIM"] = "0";
  try {
    expect(await trimExecutablePages()).toBeNull();
  } finally {
    if (before === undefined) delete process.env["AUTOSENTRY_TRIM"];
    else process.env["AUTOSENTRY_TRIM"] = before;
  }
});
