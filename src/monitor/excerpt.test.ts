import { describe, expect, test } from "bun:test";
import { AfterLines, cutAtFailure, linesAfterFailure, RingBuffer } from "./excerpt.ts";

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

describe("the excerpt cut at the failure line", () => {
  const ring = (n: number, cap: number) => {
    const r = new RingBuffer(cap);
    for (let i = 1; i <= n; i++) r.push(`line ${i}`);
    return r;
  };

  test("a detection made lines after its failure line: before ends at it, the rest come after", () => {
    const r = ring(10, 5);
    // the failure was line 8 of the child; 10 lines were observed when it was detected
    const cut = cutAtFailure(r, linesAfterFailure({ line_no: 8 }, 10), ["ctx"]);
    expect(cut.before).toEqual(["line 6", "line 7", "line 8"]);
    expect(r.since(cut.seq)).toEqual(["line 9", "line 10"]);
    // lines that arrive before the incident is written are after the failure too
    r.push("line 11");
    expect(r.since(cut.seq)).toEqual(["line 9", "line 10", "line 11"]);
    expect(cut.before).toEqual(["line 6", "line 7", "line 8"]);
  });

  test("a trace cuts at its last line (end_line_no), not its first", () => {
    expect(linesAfterFailure({ line_no: 3, end_line_no: 7 }, 9)).toBe(2);
  });

  test("a detection on the failure line itself, or naming no line, cuts at the newest line", () => {
    expect(linesAfterFailure({ line_no: 10 }, 10)).toBe(0);
    expect(linesAfterFailure({ code: 1 }, 10)).toBe(0);
    // a number from another count (a line of an earlier child) is not trusted
    expect(linesAfterFailure({ line_no: 12 }, 10)).toBe(0);
    const r = ring(4, 10);
    const cut = cutAtFailure(r, 0, []);
    expect(cut.before).toEqual(["line 1", "line 2", "line 3", "line 4"]);
    expect(r.since(cut.seq)).toEqual([]);
  });

  test("a failure line pushed out of the ring by a burst: the detector's context stands in", () => {
    const r = ring(5000, 200);
    const cut = cutAtFailure(r, linesAfterFailure({ line_no: 300 }, 5000), ["line 299", "line 300"]);
    expect(cut.before).toEqual(["line 299", "line 300"]);
    expect(r.since(cut.seq)).toHaveLength(200);
    expect(r.since(cut.seq).at(-1)).toBe("line 5000");
  });
});
