import { describe, expect, test } from "bun:test";
import { RestartPolicy } from "../config/schema.ts";
import type { Detection } from "../core/types.ts";
import {
  failureSignature,
  isStable,
  pruneWindow,
  rateLimited,
  restartDelaySeconds,
  restartsExhausted,
  restartsLabel,
  WINDOW_KEPT,
} from "./policy.ts";

const policy = (over: Partial<RestartPolicy> = {}) => RestartPolicy.parse({ cooldown_seconds: 10, ...over });

describe("restartDelaySeconds()", () => {
  test("a healer's first restart is immediate, later ones double from the cooldown", () => {
    const p = policy();
    expect([1, 2, 3, 4].map((k) => restartDelaySeconds(p, k, "healer"))).toEqual([0, 10, 20, 40]);
  });
  test("fallback restarts always wait, doubling, capped at backoff_max_seconds", () => {
    const p = policy({ backoff_max_seconds: 50 });
    expect([1, 2, 3, 4, 5].map((k) => restartDelaySeconds(p, k, "fallback"))).toEqual([10, 20, 40, 50, 50]);
  });
  test("fixed backoff waits the cooldown every time after a healer's first restart", () => {
    const p = policy({ backoff: "fixed" });
    expect([1, 2, 3].map((k) => restartDelaySeconds(p, k, "healer"))).toEqual([0, 10, 10]);
    expect([1, 2].map((k) => restartDelaySeconds(p, k, "fallback"))).toEqual([10, 10]);
  });
});

describe("give-up rules", () => {
  test("max_restarts 0 is unlimited and labelled ∞", () => {
    expect(restartsExhausted(policy({ max_restarts: 0 }), 10_000)).toBe(false);
    expect(restartsLabel(3, 0)).toBe("3/∞");
    expect(restartsExhausted(policy({ max_restarts: 3 }), 3)).toBe(true);
    expect(restartsExhausted(policy({ max_restarts: 3 }), 2)).toBe(false);
  });
  test("the launch-rate window forgets old launches and caps new ones", () => {
    const p = policy({ max_restarts_in_window: 2, restart_window_seconds: 60 });
    const now = Date.parse("2026-01-01T00:10:00Z");
    const window = ["2026-01-01T00:00:00Z", "2026-01-01T00:09:30Z", "2026-01-01T00:09:50Z"];
    const kept = pruneWindow(window, p, now);
    expect(kept).toEqual(["2026-01-01T00:09:30Z", "2026-01-01T00:09:50Z"]);
    expect(rateLimited(p, kept)).toBe(true);
    expect(rateLimited(policy({ max_restarts_in_window: 0 }), kept)).toBe(false);
  });
  test("the launch-rate window keeps only the newest launches the limit needs", () => {
    const now = Date.parse("2026-01-01T01:00:00Z");
    // 5,000 launches in the last 50 s: all inside the one-hour window.
    const window = Array.from({ length: 5000 }, (_, i) => new Date(now - 50_000 + i * 10).toISOString());
    const off = pruneWindow(window, policy({ max_restarts_in_window: 0, restart_window_seconds: 3600 }), now);
    expect(off).toEqual(window.slice(-WINDOW_KEPT));
    expect(pruneWindow(window, policy({ max_restarts_in_window: 3000 }), now)).toEqual(window.slice(-3000));
    // The limit decides as it would with every launch of the window kept.
    for (const n of [1, 100, 4999, 5000, 5001, 9000]) {
      const p = policy({ max_restarts_in_window: n, restart_window_seconds: 3600 });
      expect(rateLimited(p, pruneWindow(window, p, now))).toBe(rateLimited(p, window));
      expect(rateLimited(p, pruneWindow(window.slice(0, n - 1), p, now))).toBe(false);
    }
  });
  test("a child that ran backoff_reset_seconds is stable", () => {
    const p = policy({ backoff_reset_seconds: 600 });
    expect(isStable(p, 0, 599_999)).toBe(false);
    expect(isStable(p, 0, 600_000)).toBe(true);
  });
});

describe("failureSignature()", () => {
  const det = (message: string, over: Partial<Detection> = {}): Detection => ({
    detector: "traceback",
    detectorKind: "traceback",
    kind: "error",
    message,
    context: [],
    meta: {},
    at: 0,
    generation: 1,
    ...over,
  });
  test("ignores digits so changing steps and pids still match", () => {
    expect(failureSignature(det("OOM at step 100 pid 4242"))).toBe(
      failureSignature(det("OOM at step 2000 pid 7")),
    );
  });
  test("differs by detector, exception type and words", () => {
    const a = failureSignature(det("ValueError: x", { exceptionType: "ValueError" }));
    expect(failureSignature(det("KeyError: x", { exceptionType: "KeyError" }))).not.toBe(a);
    expect(failureSignature(det("ValueError: x", { exceptionType: "ValueError", detector: "oom" }))).not.toBe(
      a,
    );
  });
});

describe("a floor when every cap is off (issue 16, finding 11)", () => {
  test("no cooldown and no caps: each restart still waits MIN_UNCAPPED_RESTART_SECONDS", () => {
    const p = policy({ cooldown_seconds: 0, max_restarts: 0, max_restarts_in_window: 0 });
    expect([1, 2, 3].map((k) => restartDelaySeconds(p, k, "healer"))).toEqual([1, 1, 1]);
    expect([1, 2].map((k) => restartDelaySeconds(p, k, "fallback"))).toEqual([1, 1]);
  });

  test("with a cap on, the policy's own delays stand", () => {
    const p = policy({ cooldown_seconds: 0, max_restarts: 5, max_restarts_in_window: 0 });
    expect([1, 2].map((k) => restartDelaySeconds(p, k, "healer"))).toEqual([0, 0]);
  });
});
