import { expect, test } from "bun:test";
import {
  type Collector,
  EDEN_EVERY,
  FULL_AFTER_GROWTH,
  FULL_MIN_INTERVAL_MS,
  GarbagePolicy,
  jscCollector,
  QUIET_MS,
  TRIM_QUIET_MS,
} from "./garbage.ts";

/** A heap that grows by `perCycle` bytes of survivors per cycle; a full collection frees them. */
function fakeHeap(perCycle: number) {
  let size = 10_000_000;
  const calls: string[] = [];
  const gc: Collector = {
    eden: () => {
      calls.push("eden");
    },
    full: () => {
      calls.push("full");
      size = 10_000_000;
      return size;
    },
    size: () => size,
  };
  return { gc, calls, grow: () => (size += perCycle) };
}

test("a young collection every EDEN_EVERY cycles; a full one after growth, rate-limited", () => {
  const h = fakeHeap(FULL_AFTER_GROWTH / 4);
  let now = 0;
  const p = new GarbagePolicy(h.gc, now);
  // 100 cycles 10 ms apart (a crash loop): 1 s in all.
  for (let i = 0; i < 100; i++) {
    now += 10;
    h.grow();
    p.cycleEnded(now);
  }
  expect(p.counts.eden).toBe(100 / EDEN_EVERY);
  // The heap passed the growth mark after ~5 cycles, but full collections are a second apart.
  expect(p.counts.full).toBe(1);
  expect(h.calls.filter((c) => c === "full")).toHaveLength(1);
  for (let i = 0; i < 100; i++) {
    now += 10;
    h.grow();
    p.cycleEnded(now);
  }
  expect(p.counts.full).toBe(2);
});

test("no full collection while the heap stays below the growth mark", () => {
  const h = fakeHeap(1000);
  let now = 0;
  const p = new GarbagePolicy(h.gc, now);
  for (let i = 0; i < 1000; i++) {
    now += 10;
    h.grow();
    p.cycleEnded(now);
  }
  expect(p.counts.full).toBe(0);
  expect(p.counts.eden).toBe(1000 / EDEN_EVERY);
});

test("once cycles stop, one full collection on the tick; none while nothing happens", () => {
  const h = fakeHeap(1000);
  const p = new GarbagePolicy(h.gc, 0);
  p.tick(5000);
  expect(p.counts.full).toBe(0); // no cycle yet: a healthy monitor pays nothing
  p.cycleEnded(5010);
  p.tick(5010 + QUIET_MS - 1);
  expect(p.counts.full).toBe(0); // still within the quiet time
  p.tick(5010 + QUIET_MS);
  expect(p.counts.full).toBe(1);
  p.tick(5010 + 10 * QUIET_MS);
  p.tick(5010 + 20 * QUIET_MS);
  expect(p.counts.full).toBe(1); // once per quiet spell
  // The next cycle starts a new spell.
  p.cycleEnded(5010 + 21 * QUIET_MS);
  p.tick(5010 + 22 * QUIET_MS);
  expect(p.counts.full).toBe(2);
  expect(FULL_MIN_INTERVAL_MS).toBeGreaterThan(0);
});

test("the executable's pages are given back once per quiet spell, since the start or the last cycle", () => {
  const h = fakeHeap(1000);
  let trims = 0;
  const p = new GarbagePolicy(h.gc, 0, () => {
    trims++;
  });
  p.tick(TRIM_QUIET_MS - 1);
  expect(trims).toBe(0); // start-up is not over yet
  p.tick(TRIM_QUIET_MS);
  expect(trims).toBe(1); // a healthy job: once after start
  p.tick(5 * TRIM_QUIET_MS);
  expect(trims).toBe(1);
  // A crash loop (a cycle every second) never trims; its end starts a new quiet spell.
  let now = 5 * TRIM_QUIET_MS;
  for (let i = 0; i < 30; i++) {
    now += 1000;
    p.cycleEnded(now);
    p.tick(now);
  }
  expect(trims).toBe(1);
  p.tick(now + TRIM_QUIET_MS - 1);
  expect(trims).toBe(1);
  p.tick(now + TRIM_QUIET_MS);
  expect(trims).toBe(2);
  expect(p.counts.trim).toBe(2);
  // Without a trim function (tests, other callers) nothing is trimmed and nothing fails.
  const q = new GarbagePolicy(h.gc, 0);
  q.tick(2 * TRIM_QUIET_MS);
  expect(q.counts.trim).toBe(0);
});

test("the JavaScriptCore collector reports heap sizes (after a collection)", () => {
  expect(jscCollector.full()).toBeGreaterThan(0);
  jscCollector.eden();
  expect(jscCollector.size()).toBeGreaterThan(0);
});
