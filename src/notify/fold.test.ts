import { describe, expect, test } from "bun:test";
import type { Notification } from "../core/types.ts";
import { FoldingNotifier } from "./fold.ts";
import type { Notifier } from "./types.ts";

class Rec implements Notifier {
  readonly name = "rec";
  got: Notification[] = [];
  notify(n: Notification) {
    this.got.push(n);
  }
  async close() {}
}

const fail = (fp: string, healed = true): Notification => ({
  kind: "recovery",
  title: "[oom] CUDA out of memory",
  body: "",
  incident_id: `inc-${Math.random()}`,
  detail: { subject: "train.py", what: "CUDA out of memory", fingerprint: fp, healed, action: "restarted" },
});

describe("FoldingNotifier", () => {
  test("the first goes out at once, repeats fold into one message with a count", async () => {
    let now = 0;
    const rec = new Rec();
    const f = new FoldingNotifier(rec, 600_000, () => now);
    f.notify(fail("A"));
    expect(rec.got).toHaveLength(1);
    for (let i = 0; i < 6; i++) {
      now += 100_000;
      f.notify(fail("A"));
    }
    f.notify({ kind: "exit", title: "monitor stopping", body: "", incident_id: null });
    f.notify(fail("B"));
    expect(rec.got.map((n) => n.title)).toEqual([
      "[oom] CUDA out of memory",
      "monitor stopping",
      "[oom] CUDA out of memory",
    ]);
    now = 600_000;
    await f.close(10);
    expect(rec.got).toHaveLength(4);
    expect(rec.got[3]!.title).toBe("train.py: CUDA out of memory ×7 in 10 min, healed each time");
  });

  test("folded messages say when healing did not always work; a window of 0 never folds", async () => {
    const rec = new Rec();
    const f = new FoldingNotifier(rec, 60_000, () => 0);
    f.notify(fail("A"));
    f.notify(fail("A", false));
    await f.close(10);
    expect(rec.got[1]!.title).toBe("train.py: CUDA out of memory ×2 in 1 min, healed some of the time");
    const rec0 = new Rec();
    const f0 = new FoldingNotifier(rec0, 0);
    f0.notify(fail("A"));
    f0.notify(fail("A"));
    expect(rec0.got).toHaveLength(2);
  });

  test("the window closes on its own", async () => {
    const rec = new Rec();
    const f = new FoldingNotifier(rec, 50);
    f.notify(fail("A"));
    f.notify(fail("A"));
    await Bun.sleep(120);
    expect(rec.got.map((n) => n.title)).toEqual([
      "[oom] CUDA out of memory",
      "train.py: CUDA out of memory ×2 in 1 min, healed each time",
    ]);
  });
});
