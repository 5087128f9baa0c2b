import { expect, test } from "bun:test";
import {
  isBanner,
  parseShimArgs,
  parseShimExit,
  type ShimOptions,
  shimArgs,
  startBanner,
  stopBanner,
} from "./protocol.ts";

const opts: ShimOptions = {
  generation: 3,
  logPath: "/tmp/x/process.log",
  exitFile: "/tmp/x/run/exit-3.json",
  maxLineLength: 65536,
  logMaxBytes: 1000,
  logBackups: 0,
  argv: ["python", "-c", "print('--')", "--", "--log"],
};

test("shim arguments round-trip, including a command that contains -- and flags", () => {
  expect(parseShimArgs(shimArgs(opts))).toEqual(opts);
});

test("bad shim arguments are rejected with the usage", () => {
  expect(() => parseShimArgs([])).toThrow(/missing command[\s\S]*usage: autosentry __shim/);
  expect(() => parseShimArgs(["--generation", "1", "--"])).toThrow(/missing command/);
  const args = shimArgs(opts);
  expect(() =>
    parseShimArgs(args.filter((a, i) => a !== "--exit-file" && args[i - 1] !== "--exit-file")),
  ).toThrow(/missing --exit-file/);
  const bad = [...args];
  bad[bad.indexOf("--max-line") + 1] = "0";
  expect(() => parseShimArgs(bad)).toThrow(/--max-line must be an integer >= 1/);
  expect(() => parseShimArgs(["--generation", "--", "sh"])).toThrow(/bad argument --generation/);
});

test("exit records parse strictly", () => {
  const e = { generation: 1, pid: 5, code: null, signal: "SIGKILL", at: 9, leftovers: 2 };
  expect(parseShimExit(JSON.stringify(e))).toEqual(e);
  expect(parseShimExit('{"generation":1,"pid":5,"code":0,"signal":null,"at":9}')?.leftovers).toBe(0);
  expect(parseShimExit('{"generation":1,"pid":5,"code":"0","signal":null,"at":9}')).toBeNull();
  expect(parseShimExit("{torn")).toBeNull();
  expect(parseShimExit("null")).toBeNull();
});

test("banners", () => {
  const at = Date.UTC(2026, 10, 22, 3, 4, 5);
  expect(startBanner(at, 2, 77)).toBe("===== autosentry: start 2026-11-22T03:04:05.000Z gen=2 pid=77 =====");
  expect(stopBanner(at, 137)).toBe("===== autosentry: stop 2026-11-22T03:04:05.000Z exit=137 =====");
  expect(stopBanner(at, null)).toBe("===== autosentry: stop 2026-11-22T03:04:05.000Z exit=unknown =====");
  expect(isBanner(stopBanner(at, 0))).toBe(true);
  expect(isBanner("===== autosentry: start of my own output")).toBe(false);
  expect(isBanner("epoch 3 =====")).toBe(false);
});
