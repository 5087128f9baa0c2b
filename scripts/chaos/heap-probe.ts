/**
 * @module
 * The binary under test plus a memory probe, for the crash-cycle investigation (issue 16): built
 * like dist/autosentry (`bun scripts/chaos/build-probe.ts` writes dist/autosentry-probe), it runs
 * main.ts unchanged and, in the `run` process only and when AUTOSENTRY_HEAP_PROBE names a file,
 * appends one JSON line every AUTOSENTRY_HEAP_PROBE_MS (default 5 s): the restarts so far (from
 * .autosentry/state.json), RSS and its anonymous part before and after a forced full GC (none with
 * AUTOSENTRY_HEAP_PROBE_GC=0), the JavaScript heap, its capacity and its live objects by type
 * (`bun:jsc` heapStats), and the allocator's committed bytes. Not part of the product: nothing in
 * src/ knows about it.
 */
import * as fs from "node:fs";

const out = process.env.AUTOSENTRY_HEAP_PROBE;
if (out && process.argv[2] === "run") {
  const jsc = await import("bun:jsc");
  const every = Number(process.env.AUTOSENTRY_HEAP_PROBE_MS ?? 5000);
  const restarts = (): number | null => {
    try {
      return Number(JSON.parse(fs.readFileSync(".autosentry/state.json", "utf8")).restarts_total ?? 0);
    } catch {
      return null;
    }
  };
  // AUTOSENTRY_HEAP_PROBE_GC=0: record without forcing a collection (what the product build holds).
  const force = process.env.AUTOSENTRY_HEAP_PROBE_GC !== "0";
  const anonKiB = (): number | null => {
    try {
      return Number(/RssAnon:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1] ?? Number.NaN);
    } catch {
      return null;
    }
  };
  const sample = () => {
    const rssBefore = process.memoryUsage().rss;
    const anonBefore = anonKiB();
    if (force) Bun.gc(true);
    const h = jsc.heapStats();
    const m = process.memoryUsage();
    const mi = jsc.memoryUsage();
    fs.appendFileSync(
      out,
      `${JSON.stringify({
        t: Date.now(),
        restarts: restarts(),
        rss_before_gc: rssBefore,
        rss: m.rss,
        rss_anon_before_gc: anonBefore === null ? null : anonBefore * 1024,
        rss_anon: (anonKiB() ?? 0) * 1024,
        // Bun's allocator (mimalloc) as it counts committed memory: it rises steadily while RSS does
        // not (purged pages stay counted), so it is recorded, not compared.
        malloc_commit: mi.currentCommit,
        forced_gc: force,
        heap_size: h.heapSize,
        heap_capacity: h.heapCapacity,
        extra_memory: h.extraMemorySize,
        object_count: h.objectCount,
        protected: h.protectedObjectCount,
        types: h.objectTypeCounts,
      })}\n`,
    );
  };
  setInterval(sample, every).unref();
}
await import("../../main.ts");
