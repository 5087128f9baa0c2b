import { expect, test } from "bun:test";
import { sparkline } from "./sparkline.ts";

test("scaled between the smallest and largest value", () => {
  expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe("▁▂▃▄▅▆▇█");
  expect(sparkline([5, 5, 5])).toBe("▁▁▁");
  expect(sparkline([])).toBe("");
});

test("NaN and infinities are marked, and do not flatten the rest", () => {
  expect(sparkline([1, 8, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe("▁█×↑↓");
});

test("long series are bucketed to the width", () => {
  const s = sparkline(
    Array.from({ length: 1000 }, (_, i) => i),
    50,
  );
  expect([...s].length).toBe(50);
  expect(s.startsWith("▁")).toBe(true);
  expect(s.endsWith("█")).toBe(true);
  expect(sparkline([...Array.from({ length: 99 }, () => 1), Number.NaN], 10).endsWith("×")).toBe(true);
});
