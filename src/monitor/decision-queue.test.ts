import { describe, expect, test } from "bun:test";
import { DecisionQueue } from "./decision-queue.ts";

describe("DecisionQueue", () => {
  test("runs decisions one at a time, in the order they were queued", async () => {
    const q = new DecisionQueue(
      () => false,
      (err) => {
        throw err;
      },
    );
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const first = q.run(async () => {
      log.push("first begins");
      await gate;
      log.push("first ends");
    });
    const second = q.run(() => {
      log.push("second");
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(["first begins"]);
    release();
    await Promise.all([first, second]);
    expect(log).toEqual(["first begins", "first ends", "second"]);
  });

  test("a decision that throws is reported and the next one still runs", async () => {
    const errors: unknown[] = [];
    const q = new DecisionQueue(
      () => false,
      (err) => errors.push(err),
    );
    const ran: string[] = [];
    const failing = q.run(async () => {
      throw new Error("boom");
    });
    const next = q.run(() => {
      ran.push("next");
    });
    await expect(failing).resolves.toBeUndefined();
    await next;
    expect(errors.map((e) => (e as Error).message)).toEqual(["boom"]);
    expect(ran).toEqual(["next"]);
  });

  test("once closed, queued decisions are dropped", async () => {
    let closed = false;
    const q = new DecisionQueue(
      () => closed,
      () => {},
    );
    const ran: string[] = [];
    const a = q.run(() => {
      ran.push("a");
      closed = true;
    });
    const b = q.run(() => {
      ran.push("b");
    });
    await Promise.all([a, b]);
    expect(ran).toEqual(["a"]);
  });
});
