import { expect, test } from "bun:test";
import { contextWindow, scopeWindow } from "./window.ts";

const file = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

test("contextWindow is ±context around the line, clamped to the file", () => {
  expect(contextWindow(file(5), 1, 2).text).toBe(
    [">>> 1  line 1", "    2  line 2", "    3  line 3"].join("\n"),
  );
  const w = contextWindow(file(120), 100, 1);
  expect(w.text).toBe(["     99  line 99", ">>> 100  line 100", "    101  line 101"].join("\n"));
  expect([w.firstLine, w.lastLine]).toEqual([99, 101]);
  expect(contextWindow(file(3), 3, 0).text).toBe(">>> 3  line 3");
});

test("a scope that fits is shown whole", () => {
  const w = scopeWindow(file(30), { start: 10, end: 14, header: 10 }, 12, 60);
  expect(w.text.split("\n")).toHaveLength(5);
  expect([w.hiddenAbove, w.hiddenBelow]).toEqual([0, 0]);
});

test("a long scope keeps its header, shows the budget around the line and notes the gaps", () => {
  const w = scopeWindow(file(300), { start: 100, end: 250, header: 101 }, 200, 12);
  const lines = w.text.split("\n");
  const sourceLines = lines.filter((l) => !l.includes("not shown"));
  expect(sourceLines).toHaveLength(12);
  // decorator and header lines first
  expect(lines[0]).toBe("    100  line 100");
  expect(lines[1]).toBe("    101  line 101");
  // 10 lines of room: 6 above the hot line, 3 below
  expect(lines[2]).toBe("         … 92 lines not shown (102–193) …");
  expect(lines[3]).toBe("    194  line 194");
  expect(lines[9]).toBe(">>> 200  line 200");
  expect(lines[12]).toBe("    203  line 203");
  expect(lines[13]).toBe("         … 47 lines not shown (204–250) …");
  expect([w.hiddenAbove, w.hiddenBelow, w.firstLine, w.lastLine]).toEqual([92, 47, 100, 250]);
});

test("a hot line near the end of a long scope shifts the window up", () => {
  const w = scopeWindow(file(100), { start: 1, end: 100, header: 1 }, 99, 10);
  const lines = w.text.split("\n");
  expect(lines.at(-1)).toBe("    100  line 100");
  expect(w.hiddenBelow).toBe(0);
  expect(lines.filter((l) => !l.includes("not shown"))).toHaveLength(10);
  expect(lines[1]).toBe("         … 90 lines not shown (2–91) …");
});

test("a hot line on the header of a long scope", () => {
  const w = scopeWindow(file(100), { start: 1, end: 100, header: 1 }, 1, 5);
  expect(w.text.split("\n")).toEqual([
    ">>>   1  line 1",
    "      2  line 2",
    "      3  line 3",
    "      4  line 4",
    "      5  line 5",
    "         … 95 lines not shown (6–100) …",
  ]);
});

test("very long lines are shortened and CRs dropped", () => {
  const lines = ["x".repeat(1000), "tail\r"];
  const w = contextWindow(lines, 1, 1);
  expect(w.text).toBe(`>>> 1  ${"x".repeat(400)} … (600 more characters)\n    2  tail`);
});
