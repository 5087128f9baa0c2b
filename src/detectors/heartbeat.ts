/**
 * @module
 * The heartbeat detector: the job proves it is alive by touching a file (`path`, or `.heartbeat`
 * in a sentinel directory), and a file older than `max_age_seconds` while the child runs means it
 * hangs (condition `stale`). A heartbeat older than the child does not count: the clock starts at
 * the child's start plus `start_period_seconds`. With a sentinel directory it also reads `.status`:
 * `FAILED` (written after the child started) is a failure (condition `failed`, the `.result` text
 * in meta), `SUCCESS` is a completion (see completion.ts for what the monitor does with one).
 *
 * The monitor stats the files on its sampling interval and hands the readings in; detections come
 * out on the next tick.
 */
import type { Detection } from "../core/types.ts";
import type { Detector } from "./types.ts";

export interface HeartbeatOptions {
  maxAgeMs: number;
  startPeriodMs: number;
}

export class HeartbeatDetector implements Detector {
  readonly kind = "heartbeat" as const;
  private childStart: number | null = null;
  private beatMs: number | null = null;
  private fired = false;
  private statusDone = false;
  private readonly queue: Detection[] = [];
  private generation = 0;

  constructor(
    readonly name: string,
    private readonly o: HeartbeatOptions,
    readonly cooldownMs: number,
  ) {}

  observeLine(): Detection | null {
    return null;
  }

  /** The heartbeat file's mtime (null: it does not exist). */
  observeHeartbeat(mtimeMs: number | null): void {
    if (mtimeMs !== null && (this.beatMs === null || mtimeMs > this.beatMs)) {
      this.beatMs = mtimeMs;
      this.fired = false;
    }
  }

  /** A sentinel directory's `.status` (first word, upper case) and `.result`. */
  observeStatus(status: string | null, statusMs: number | null, result: string | null, at: number): void {
    if (this.statusDone || status === null || statusMs === null) return;
    if (this.childStart !== null && statusMs < this.childStart) return; // a previous run's
    if (status !== "SUCCESS" && status !== "FAILED") return;
    this.statusDone = true;
    const ok = status === "SUCCESS";
    this.queue.push({
      detector: this.name,
      detectorKind: "heartbeat",
      kind: ok ? "completion" : "error",
      message: ok ? "sentinel .status says SUCCESS" : "sentinel .status says FAILED",
      context: result ? result.split("\n").slice(0, 50) : [],
      meta: { metric: "status", condition: ok ? "success" : "failed", result: result?.slice(0, 500) ?? null },
      at,
      generation: this.generation,
    });
  }

  observeTick(now: number, childAlive: boolean, generation: number): Detection | null {
    this.generation = generation;
    const stale = this.staleness(now, childAlive, generation);
    if (stale) this.queue.push(stale);
    return this.queue.shift() ?? null;
  }

  private staleness(now: number, childAlive: boolean, generation: number): Detection | null {
    // a child re-adopted from an earlier monitor was never "started" here: its clock starts now
    if (childAlive && this.childStart === null) this.childStart = now;
    if (!childAlive || this.childStart === null || this.fired) return null;
    const from = Math.max(this.beatMs ?? 0, this.childStart + this.o.startPeriodMs);
    const age = now - from;
    if (age <= this.o.maxAgeMs) return null;
    this.fired = true;
    const seen = this.beatMs !== null && this.beatMs >= this.childStart;
    const ageS = Math.round((now - (seen ? this.beatMs! : this.childStart)) / 1000);
    return {
      detector: this.name,
      detectorKind: "heartbeat",
      kind: "error",
      message: seen
        ? `heartbeat stale: last touched ${ageS}s ago (limit ${this.o.maxAgeMs / 1000}s)`
        : `heartbeat missing: not touched since the child started ${ageS}s ago (limit ${this.o.maxAgeMs / 1000}s after a ${this.o.startPeriodMs / 1000}s start period)`,
      context: [],
      meta: { metric: "heartbeat", condition: "stale", age_seconds: ageS },
      at: now,
      generation,
    };
  }

  takePending(): Detection | null {
    return this.queue.shift() ?? null;
  }

  onChildStart(generation: number, at: number): void {
    this.generation = generation;
    this.childStart = at;
    this.fired = false;
    this.statusDone = false;
    this.queue.length = 0;
  }
}
