/**
 * @module
 * A test-only pause point: with `AUTOSENTRY_TEST_HOLD=<point>:<file>` in the monitor's environment,
 * the monitor writes `<file>` (holding the generation) when it reaches `<point>` and then waits
 * there forever, so that an end-to-end test can SIGKILL it in exactly that window (issue 16: a
 * monitor killed between receiving a child's exit and recording it must not lose the failure).
 * Without the variable (every real run) {@link testHold} returns at once.
 */
import * as fs from "node:fs";

/** Where a test may hold the monitor. */
export type HoldPoint = "before-incident" | "after-incident";

const spec = process.env.AUTOSENTRY_TEST_HOLD ?? "";

/** Resolves at once, unless a test asked to hold the monitor at `point` (then never). */
export function testHold(point: HoldPoint, generation: number): Promise<void> | null {
  if (spec === "" || !spec.startsWith(`${point}:`)) return null;
  try {
    fs.writeFileSync(spec.slice(point.length + 1), `${generation}\n`);
  } catch {}
  return new Promise<void>(() => {});
}
