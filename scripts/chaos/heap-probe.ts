/**
 * @module
 * The binary under test plus a memory probe, for the crash-cycle investigation (issue 16): built
 * like dist/autosentry (`bun scripts/chaos/build-probe.ts` writes dist/autosentry-probe), it runs
 * main.ts unchanged and, in the `run` process only and when AUTOSENTRY_HEAP_PROBE names a file,
 * appends one JSON line every AUTOSENTRY_HEAP_PROBE_MS (default 5 s): the restarts so far (from
 * .autosentry/state.json), RSS before and after a forced full GC, the JavaScript heap and its live
 * objects by type (`bun:jsc` heapStats). Not part of the product: nothing in src/ knows about it.
 */
import * as fs from "node:fs";

const out = process.env.AUTOSENTRY_HEAP_PROBE;
if (out && process.argv[2] === "run") {
  const { heapStats } = await import("bun:jsc");
  const every = Number(process.env.AUTOSENTRY_HEAP_PROBE_MS ?? 5000);
  const restarts = (): number | null => {
    try {
      return Number(JSON.parse(fs.readFileSync(".autosentry/state.json", "utf8")).restarts_total ?? 0);
    } catch {
      return null;
    }
  };
  const sample = () => {
    const rssBefore = process.memoryUsage().rss;
    Bun.gc(true);
    const h = heapStats();
    const m = process.memoryUsage();
    fs.appendFileSync(
      out,
      `${JSON.stringify({
        t: Date.now(),
        restarts: restarts(),
        rss_before_gc: rssBefore,
        rss: m.rss,
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
