/**
 * @module
 * The monitor's garbage policy: when to ask JavaScriptCore for a collection, so that a crash loop
 * does not let the resident size climb between the collector's own, lazy, full collections.
 *
 * Each incident cycle (failure → incident folder → journal, vault and state.json writes → restart)
 * leaves a few hundred KB of short-lived objects and strings and a little that outlives the young
 * generation. Left to itself the collector ran a full collection every ~800 cycles of the
 * crash-cycle chaos scenario (issue 16): the heap went 9 → 18 MiB and back, its capacity (blocks
 * it keeps) 23 → 33 MiB, and the resident size followed. The policy, as for the web viewer
 * (src/web/server.ts):
 *
 * - after every {@link EDEN_EVERY}th cycle a young-generation collection (~1.5 ms: the cycle's
 *   garbage is young), and a full one (~10 ms) once the heap has grown {@link FULL_AFTER_GROWTH}
 *   past its size after the last full one, at most every {@link FULL_MIN_INTERVAL_MS};
 * - once cycles stop (none for {@link QUIET_MS}, checked on the monitor's one-second tick), one
 *   full collection, so a monitor that goes back to watching a healthy job holds what it needs.
 *
 * - once the monitor has been quiet for {@link TRIM_QUIET_MS} (since it started, or since the last
 *   cycle), the executable's clean code pages are given back once (src/util/working-set.ts): they
 *   were ~20 MB of the idle monitor's resident size, touched by start-up and by the last failure's
 *   incident and restart, not used while watching a healthy job. A crash loop (a cycle more often
 *   than every {@link TRIM_QUIET_MS}) never trims; the first incident after a trim maps the pages it
 *   needs again (minor faults while the binary is in the page cache).
 *
 * The collections run after the cycle's restart was issued (when its exit is recorded), never
 * between a failure and its restart. A monitor without failures pays nothing here. Measured with
 * the crash-cycle scenario (docs/reliability.md, "Memory over crash cycles"): over 1,000 cycles
 * (load average 2–4) the policy costs ~0.4 s of CPU (~3 % of the loop) and ends ~7 MiB lower
 * (83 instead of 90 MiB); growth 4.3–5.1 % instead of 13–14 % (a young collection every cycle:
 * 4.7–4.9 % for ~1.4 s of CPU; full collections on growth alone: 6.1–6.5 % for ~0.1 s).
 */
import { edenGC, heapSize } from "bun:jsc";

/** A young-generation collection after every this many incident cycles. */
export const EDEN_EVERY = 4;
/** A full collection once the heap grew this much past its size after the last one. */
export const FULL_AFTER_GROWTH = 2 * 1024 * 1024;
/** Full collections caused by growth are at least this far apart (a crash loop pays little). */
export const FULL_MIN_INTERVAL_MS = 1000;
/** No incident cycle for this long after some: one full collection. */
export const QUIET_MS = 1000;

/**
 * Quiet this long (no incident cycle since the start or since the last one): the executable's code
 * pages are given back once. Long enough that start-up, a failure burst's restarts and their
 * deferred writes are over; short enough that a monitor watching a healthy job holds only what it
 * uses after its first seconds.
 */
export const TRIM_QUIET_MS = 10_000;

/** The collector, as the policy uses it (tests pass a fake). */
export interface Collector {
  /** A young-generation collection. */
  eden(): void;
  /** A full, synchronous collection; the heap size after it (bytes). */
  full(): number;
  /** The heap size after the last collection (bytes; 0 before the first). */
  size(): number;
}

/** JavaScriptCore's collector (`bun:jsc`). */
export const jscCollector: Collector = {
  eden: () => {
    edenGC();
  },
  full: () => {
    Bun.gc(true);
    return heapSize();
  },
  size: () => heapSize(),
};

export class GarbagePolicy {
  private cycles = 0;
  private afterFull: number;
  private lastFullAt: number;
  /** When the last cycle ended, or null when a full collection came after it. */
  private lastCycleAt: number | null = null;
  /** How many collections of each kind it asked for. */
  readonly counts = { eden: 0, full: 0, trim: 0 };
  /** Since when nothing happened: the start, then the end of the last cycle. */
  private quietSince: number;
  private trimmed = false;

  constructor(
    private readonly gc: Collector = jscCollector,
    now = Date.now(),
    /** Gives the executable's clean pages back (src/util/working-set.ts); none: no trims. */
    private readonly trim: (() => void) | null = null,
  ) {
    this.afterFull = gc.size();
    this.lastFullAt = now;
    this.quietSince = now;
  }

  /** An incident cycle ended (an exit was recorded; its restart, if any, was issued). */
  cycleEnded(now: number): void {
    this.lastCycleAt = now;
    this.quietSince = now;
    this.trimmed = false;
    if (++this.cycles % EDEN_EVERY !== 0) return;
    this.counts.eden++;
    this.gc.eden();
    // heapSize() after it, not edenGC()'s answer: that is 0 when the collection did not run.
    const size = this.gc.size();
    if (size - this.afterFull > FULL_AFTER_GROWTH && now - this.lastFullAt >= FULL_MIN_INTERVAL_MS)
      this.full(now);
  }

  /**
   * The monitor's tick: one full collection once cycles have stopped for {@link QUIET_MS}; one trim
   * once nothing happened for {@link TRIM_QUIET_MS}.
   */
  tick(now: number): void {
    if (this.lastCycleAt !== null && now - this.lastCycleAt >= QUIET_MS) this.full(now);
    if (this.trim !== null && !this.trimmed && now - this.quietSince >= TRIM_QUIET_MS) {
      this.trimmed = true;
      this.counts.trim++;
      this.trim();
    }
  }

  private full(now: number): void {
    this.counts.full++;
    this.afterFull = this.gc.full();
    this.lastFullAt = now;
    this.lastCycleAt = null;
  }
}
