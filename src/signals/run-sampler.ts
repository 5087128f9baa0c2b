/**
 * @module
 * Runs one sampler on its interval without ever stalling the monitor: a sampling that takes longer
 * than its timeout is abandoned (its result, if it ever comes, is dropped), a new one is not started
 * while the previous is still out (a hung `nvidia-smi` costs one outstanding call, not one per
 * interval), and a failure is reported once until the sampler succeeds again. Timers are unref'd:
 * they never keep the process alive.
 */

export interface SamplerHooks<T> {
  /** A reading arrived. */
  onSample(value: T, at: number): void;
  /** The sampler failed or timed out; called once until it succeeds again. */
  onFailure(error: string, at: number): void;
  /** It works again after a reported failure. */
  onRecovery?(at: number): void;
}

export class SamplerRunner<T> {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  private failing = false;
  private stopped = false;
  /** Samplings started, failed, and timed out (for tests and the benchmark). */
  readonly counts = { started: 0, failed: 0, timedOut: 0, skipped: 0 };

  constructor(
    readonly name: string,
    private readonly sample: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly hooks: SamplerHooks<T>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start sampling: the first one after `initialDelayMs` (default: at once). */
  start(initialDelayMs = 0): void {
    this.stopped = false;
    this.schedule(initialDelayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runOnce().finally(() => this.schedule(this.intervalMs));
    }, ms);
    this.timer.unref?.();
  }

  /** One sampling now (resolves when it ended or timed out). */
  async runOnce(): Promise<void> {
    if (this.inFlight) {
      this.counts.skipped++;
      return;
    }
    this.inFlight = true;
    this.counts.started++;
    let timeout: ReturnType<typeof setTimeout> | null = null;
    const p = this.sample();
    const guarded = p.then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e: e instanceof Error ? e.message : String(e) }),
    );
    // the outstanding call keeps inFlight until it really ends, timed out or not
    void guarded.finally(() => {
      this.inFlight = false;
    });
    const timed = new Promise<{ ok: false; e: string; timedOut: true }>((resolve) => {
      timeout = setTimeout(
        () => resolve({ ok: false, e: `timed out after ${this.timeoutMs / 1000}s`, timedOut: true }),
        this.timeoutMs,
      );
      timeout.unref?.();
    });
    const r = await Promise.race([guarded, timed]);
    if (timeout) clearTimeout(timeout);
    if (this.stopped) return;
    const at = this.now();
    if (r.ok) {
      if (this.failing) {
        this.failing = false;
        this.hooks.onRecovery?.(at);
      }
      this.hooks.onSample(r.v, at);
      return;
    }
    this.counts.failed++;
    if ("timedOut" in r) this.counts.timedOut++;
    if (!this.failing) {
      this.failing = true;
      this.hooks.onFailure(`${this.name}: ${r.e}`, at);
    }
  }
}
