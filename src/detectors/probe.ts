/**
 * @module
 * The health-probe detector: the monitor probes the child's service (HTTP or TCP, src/signals/
 * probes.ts) every interval and hands the results in. `failure_threshold` consecutive failures make
 * the child unhealthy (condition `unhealthy`); failures within `start_period_seconds` of the
 * child's start do not count (a service that is still loading), but a success ends the start period
 * early, as in Docker. After a detection the count starts over, so a still-failing child is
 * reported again only after another full run of failures.
 */
import type { Detection } from "../core/types.ts";
import type { Detector } from "./types.ts";

export interface ProbeDetectorOptions {
  /** `http://127.0.0.1:8080/health` or `tcp 127.0.0.1:5432`, for messages. */
  target: string;
  failureThreshold: number;
  startPeriodMs: number;
}

export class ProbeDetector implements Detector {
  readonly kind = "probe" as const;
  private childStart: number | null = null;
  private started = false;
  private failures = 0;
  private lastDetail = "";
  private readonly queue: Detection[] = [];
  private generation = 0;

  constructor(
    readonly name: string,
    private readonly o: ProbeDetectorOptions,
    readonly cooldownMs: number,
  ) {}

  observeLine(): Detection | null {
    return null;
  }

  /** One probe result (`at`: when it ended). */
  observeProbe(ok: boolean, detail: string, at: number): void {
    if (ok) {
      this.started = true;
      this.failures = 0;
      return;
    }
    const inStart = !this.started && this.childStart !== null && at - this.childStart < this.o.startPeriodMs;
    if (inStart) return;
    this.failures++;
    this.lastDetail = detail;
    if (this.failures < this.o.failureThreshold) return;
    const n = this.failures;
    this.failures = 0;
    this.queue.push({
      detector: this.name,
      detectorKind: "probe",
      kind: "error",
      message: `health probe ${this.o.target} failed ${n} times in a row (last: ${this.lastDetail})`,
      context: [],
      meta: { metric: "health", condition: "unhealthy", failures: n, last: this.lastDetail },
      at,
      generation: this.generation,
    });
  }

  observeTick(_now: number, _alive: boolean, generation: number): Detection | null {
    this.generation = generation;
    return this.queue.shift() ?? null;
  }

  takePending(): Detection | null {
    return this.queue.shift() ?? null;
  }

  onChildStart(generation: number, at: number): void {
    this.generation = generation;
    this.childStart = at;
    this.started = false;
    this.failures = 0;
    this.queue.length = 0;
  }
}
