import { describe, expect, test } from "bun:test";
import { AfterLines, RingBuffer } from "./excerpt.ts";

describe("RingBuffer", () => {
  test("keeps the most recent lines, oldest first", () => {
    const r = new RingBuffer(3);
    for (const l of ["a", "b", "c", "d", "e"]) r.push(l);
    expect(r.toArray()).toEqual(["c", "d", "e"]);
  });
  test("capacity 0 keeps nothing", () => {
    const r = new RingBuffer(0);
    r.push("a");
    expect(r.toArray()).toEqual([]);
  });
});

describe("AfterLines", () => {
  const make = () => {
    const appended: Array<[string, string[]]> = [];
    const errors: unknown[] = [];
    const after = new AfterLines(
      async (id, lines) => {
        appended.push([id, lines]);
      },
      (err) => errors.push(err),
    );
    return { after, appended, errors };
  };

  test("gathers lines of its generation only, up to its count, and appends them when full", () => {
    const { after, appended } = make();
    expect(after.active).toBe(false);
    after.start({ incidentId: "i1", generation: 2, remaining: 2, lines: [], until: Date.now() + 60_000 });
    expect(after.active).toBe(true);
    after.collect("other child", 1);
    after.collect("one", 2);
    after.collect("two", 2);
    after.collect("three", 2);
    after.flush(false);
    expect(appended).toEqual([["i1", ["one", "two"]]]);
    expect(after.active).toBe(false);
  });

  test("the child's exit closes its collectors; the others stay open until shutdown", () => {
    const { after, appended } = make();
    const until = Date.now() + 60_000;
    after.start({ incidentId: "i1", generation: 1, remaining: 10, lines: [], until });
    after.start({ incidentId: "i2", generation: 2, remaining: 10, lines: [], until });
    after.collect("from 1", 1);
    after.collect("from 2", 2);
    after.closeGeneration(1);
    expect(appended).toEqual([["i1", ["from 1"]]]);
    expect(after.active).toBe(true);
    after.flush(true);
    expect(appended).toEqual([
      ["i1", ["from 1"]],
      ["i2", ["from 2"]],
    ]);
  });

  test("an expired collector without lines appends nothing; a failing append is reported", async () => {
    const errors: unknown[] = [];
    const after = new AfterLines(
      () => Promise.reject(new Error("disk full")),
      (err) => errors.push(err),
    );
    after.start({ incidentId: "i1", generation: 1, remaining: 5, lines: [], until: 0 });
    after.start({ incidentId: "i2", generation: 1, remaining: 5, lines: ["x"], until: Date.now() + 60_000 });
    after.flush(false);
    expect(after.active).toBe(true);
    after.flush(true);
    await Bun.sleep(0);
    expect(errors.map((e) => (e as Error).message)).toEqual(["disk full"]);
  });
});
