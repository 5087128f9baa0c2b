/**
 * @module
 * Durability after the fact: files written without fsync (complete and visible at once, and safe
 * from a crash of the writing process, since the kernel holds every completed write) are made
 * durable against a power loss a moment later, in batches, off the event loop.
 *
 * Why: the monitor writes an incident folder (seven files and a directory), an index line and
 * several journal lines between a child's exit and its restart. An fsync costs 0.3-25 ms on a busy
 * disk (4 ms median on the 2-core build machine), so syncing each of them before the restart made
 * the restart several times slower than PM2's, which writes nothing (issue 13). What a restart
 * needs is that a person and the next monitor find the incident even if this monitor dies, which
 * the page cache gives; a power loss ends the child too, and what it can cost is the incidents and
 * journal lines of the last moment before it (docs/reliability.md, "Durability").
 *
 * {@link DeferredSync.add} notes a path (file or directory); {@link DeferredSync.now} starts a batch
 * at once (the monitor calls it right after it issued a restart), otherwise a batch starts after
 * `delayMs`. One batch runs at a time; paths added meanwhile go into the next one, and batches
 * start at most every `minIntervalMs`: each fsync commits the file system's journal, and in a
 * crash loop (a restart every few milliseconds) back-to-back commits held up the next incident's
 * file creations (ext4 metadata waits for a committing transaction), so the syncs of a loop are
 * gathered instead. The power-loss window is thus at most `minIntervalMs` plus one fsync. Each path is
 * opened read-only and fsynced through the async file API (a worker thread), so the monitor keeps
 * reading lines and deciding while the disk catches up. {@link DeferredSync.flush} resolves when
 * everything added so far is durable (the monitor awaits it before it exits).
 */
import * as fs from "node:fs";

export class DeferredSync {
  private pending = new Set<string>();
  private running: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private lastStart = 0;

  constructor(
    private readonly delayMs = 200,
    private readonly minIntervalMs = 100,
    /** Called with the first failure of each batch that had one (a vanished file is not one). */
    private readonly onError: (message: string) => void = () => {},
  ) {}

  /** Make `file` (a file or a directory) durable soon. */
  add(file: string): void {
    this.pending.add(file);
    if (this.timer === null && this.running === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.run();
      }, this.delayMs);
    }
  }

  /** Start syncing what is pending now, or as soon as the interval allows (no-op when nothing is). */
  now(): void {
    if (this.pending.size === 0 || this.running !== null) return;
    const wait = this.lastStart + this.minIntervalMs - Date.now();
    if (wait <= 0) {
      void this.run();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, wait);
  }

  /** Resolves when every path added before the call is durable (or failed, reported). */
  async flush(): Promise<void> {
    while (this.running !== null || this.pending.size > 0) {
      if (this.running === null) void this.run();
      await this.running;
    }
  }

  /** fsync failures so far. */
  get errors(): number {
    return this.failures;
  }

  private run(): Promise<void> {
    if (this.running !== null) return this.running;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending];
    this.pending = new Set();
    this.lastStart = Date.now();
    const p = (async () => {
      let first: string | null = null;
      await Promise.all(
        batch.map(async (file) => {
          try {
            const fh = await fs.promises.open(file, "r");
            try {
              await fh.sync();
            } finally {
              await fh.close();
            }
          } catch (err) {
            // Gone already (a rotated log, a removed folder): nothing left to make durable.
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
            this.failures++;
            first ??= `Cannot fsync ${file}: ${(err as Error).message}`;
          }
        }),
      );
      if (first !== null) this.onError(first);
    })();
    this.running = p.finally(() => {
      this.running = null;
      if (this.pending.size > 0 && this.timer === null) {
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.run();
        }, this.delayMs);
      }
    });
    return this.running;
  }
}
