/**
 * @module
 * The restart policy as pure functions: how long to wait before a restart, when to give up, and
 * what counts as "the same failure again". The monitor calls these; they read nothing but their
 * arguments, so every rule of the policy is testable without a process.
 */
import type { RestartPolicy } from "../config/schema.ts";
import type { Detection } from "../core/types.ts";

/** Who asked for a restart. */
export type RestartCause = "healer" | "fallback";

/**
 * Seconds to wait before the `k`-th restart of a failure sequence (k ≥ 1).
 *
 * A healer (a rule or an agent) that decided on a fix restarts at once the first time; every other
 * restart waits `cooldown_seconds`, doubling per consecutive restart with `exponential` backoff,
 * capped at `backoff_max_seconds`. A failure sequence ends when a child runs for
 * `backoff_reset_seconds` (see {@link isStable}).
 */
export function restartDelaySeconds(policy: RestartPolicy, k: number, cause: RestartCause): number {
  return Math.max(uncappedFloorSeconds(policy), policyDelaySeconds(policy, k, cause));
}

/**
 * With every cap off (`max_restarts` and `max_restarts_in_window` both 0) a job that dies at once
 * was relaunched flat out: 421 launches in 20 s at 93 % CPU (issue 16, finding 11). Then each
 * restart waits at least this long. With a cap on, the cap bounds the loop and delays are the
 * policy's own.
 */
export const MIN_UNCAPPED_RESTART_SECONDS = 1;

function uncappedFloorSeconds(policy: RestartPolicy): number {
  return policy.max_restarts <= 0 && policy.max_restarts_in_window <= 0 ? MIN_UNCAPPED_RESTART_SECONDS : 0;
}

function policyDelaySeconds(policy: RestartPolicy, k: number, cause: RestartCause): number {
  const waits = cause === "healer" ? k - 1 : k;
  if (waits <= 0) return 0;
  if (policy.backoff === "fixed") return policy.cooldown_seconds;
  const d = policy.cooldown_seconds * 2 ** (waits - 1);
  return Math.min(policy.backoff_max_seconds, d);
}

/** True once a child has run long enough to end the current failure sequence. */
export function isStable(policy: RestartPolicy, childStartedAtMs: number, nowMs: number): boolean {
  return nowMs - childStartedAtMs >= policy.backoff_reset_seconds * 1000;
}

/** True when `restarts` consecutive unverified restarts have used up `max_restarts` (0 or less = unlimited). */
export function restartsExhausted(policy: RestartPolicy, restarts: number): boolean {
  return policy.max_restarts > 0 && restarts >= policy.max_restarts;
}

/** `n / cap`, with ∞ for an unlimited cap. */
export function restartsLabel(restarts: number, maxRestarts: number): string {
  return `${restarts}/${maxRestarts > 0 ? maxRestarts : "∞"}`;
}

/**
 * The signature of a failure for the identical-failure guard: detector, kind, exception type and the
 * message with every run of digits replaced by `#` (so changing steps, pids and timestamps still
 * count as the same failure), cut to 200 characters.
 */
export function failureSignature(d: Detection): string {
  const msg = d.message.replace(/\d+/g, "#").slice(0, 200);
  return `${d.detector}:${d.kind}:${d.exceptionType ?? ""}:${msg}`;
}

/**
 * How many launch timestamps `restart_window` keeps at least (the newest), when the rate limit
 * needs fewer or is off: enough to read the recent launch rate in state.json.
 */
export const WINDOW_KEPT = 100;

/**
 * Drop launch timestamps older than the window, and all but the newest `max_restarts_in_window`
 * (at least {@link WINDOW_KEPT}); returns the kept ones (ISO strings), oldest first.
 *
 * The limit only asks whether `max_restarts_in_window` launches fall in the window, which the newest
 * that many answer exactly. Keeping every launch of the window (one hour by default) made a crash
 * loop's state.json grow by a timestamp per restart, and with it every state.json write and the
 * monitor's memory: 3,000 entries (90 KB) after 3,000 quick crashes (issue 16, crash cycles).
 */
export function pruneWindow(window: string[], policy: RestartPolicy, nowMs: number): string[] {
  const horizon = nowMs - policy.restart_window_seconds * 1000;
  const keep = Math.max(policy.max_restarts_in_window, WINDOW_KEPT);
  const from = Math.max(0, window.length - keep);
  const out: string[] = [];
  for (let i = from; i < window.length; i++) if (Date.parse(window[i]!) > horizon) out.push(window[i]!);
  return out;
}

/** True when one more launch would exceed `max_restarts_in_window` (0 = off). */
export function rateLimited(policy: RestartPolicy, prunedWindow: string[]): boolean {
  return policy.max_restarts_in_window > 0 && prunedWindow.length >= policy.max_restarts_in_window;
}
