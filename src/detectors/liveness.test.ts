/**
 * The detectors fed by samplers and probes: resource levels, heartbeat and sentinel status, health
 * probes, completion markers.
 */
import { describe, expect, test } from "bun:test";
import { CompletionDetector } from "./completion.ts";
import { HeartbeatDetector } from "./heartbeat.ts";
import { ProbeDetector } from "./probe.ts";
import { ResourceDetector } from "./resource.ts";

describe("resource levels", () => {
  const make = () =>
    new ResourceDetector(
      "resources",
      {
        disk: { direction: "above", warn: 90, critical: 95, sustainMs: 0, unit: "percent" },
        memory: { direction: "below", warn: 1024, critical: null, sustainMs: 0, unit: "bytes" },
        gpu_util: { direction: "below", warn: 10, critical: null, sustainMs: 60_000, unit: "percent" },
      },
      0,
    );

  test("warn then critical fire once each as the disk fills; back under re-arms", () => {
    const d = make();
    d.onChildStart(1);
    const seen: string[] = [];
    for (const [at, v] of [
      [1, 50],
      [2, 91],
      [3, 92],
      [4, 96],
      [5, 97],
      [6, 80],
      [7, 96],
    ] as const) {
      d.observeReading({ resource: "disk", subject: "/data", value: v, at });
      for (let x = d.observeTick(at, true, 1); x; x = d.takePending())
        seen.push(`${x.meta["condition"]}@${at}`);
    }
    expect(seen).toEqual(["warn@2", "critical@4", "critical@7"]);
    d.observeReading({ resource: "disk", subject: "/x", value: 99, at: 8 });
    const c = d.observeTick(8, true, 1)!;
    expect(c.kind).toBe("error");
    expect(c.message).toBe("resource disk /x: 99 % is above the critical level 95 %");
    expect(c.meta).toMatchObject({ metric: "disk", condition: "critical", subject: "/x" });
  });

  test("a below-limit (host memory) and a sustained one (GPU utilisation)", () => {
    const d = make();
    d.observeReading({ resource: "memory", subject: "host", value: 512, at: 1 });
    expect(d.observeTick(1, true, 1)?.message).toBe(
      "resource memory host: 512 B is below the warn level 1 KiB",
    );
    for (let t = 0; t <= 50_000; t += 10_000)
      d.observeReading({ resource: "gpu_util", subject: "0", value: 2, at: t });
    expect(d.observeTick(50_000, true, 1)).toBeNull();
    d.observeReading({ resource: "gpu_util", subject: "0", value: 2, at: 60_000 });
    expect(d.observeTick(60_000, true, 1)?.meta["condition"]).toBe("warn");
    d.observeReading({ resource: "rss", subject: "1", value: 1e12, at: 1 });
    expect(d.observeTick(2, true, 1)).toBeNull(); // no limit configured for rss
  });
});

describe("heartbeat", () => {
  test("stale after max age from the last touch; a touch older than the child does not count", () => {
    const d = new HeartbeatDetector("hb", { maxAgeMs: 10_000, startPeriodMs: 5000 }, 0);
    d.observeHeartbeat(1000); // a previous run's file
    d.onChildStart(1, 100_000);
    expect(d.observeTick(114_000, true, 1)).toBeNull();
    const miss = d.observeTick(116_000, true, 1)!;
    expect(miss.meta).toMatchObject({ metric: "heartbeat", condition: "stale" });
    expect(miss.message).toMatch(/^heartbeat missing/);
    d.observeHeartbeat(120_000);
    expect(d.observeTick(129_000, true, 1)).toBeNull();
    expect(d.observeTick(131_000, true, 1)?.message).toBe(
      "heartbeat stale: last touched 11s ago (limit 10s)",
    );
    expect(d.observeTick(140_000, true, 1)).toBeNull(); // once per staleness
    expect(d.observeTick(200_000, false, 1)).toBeNull();
  });

  test("a child adopted from an earlier monitor (no start seen): the clock starts at the first tick", () => {
    const d = new HeartbeatDetector("hb", { maxAgeMs: 10_000, startPeriodMs: 0 }, 0);
    expect(d.observeTick(1000, true, 3)).toBeNull();
    expect(d.observeTick(10_500, true, 3)).toBeNull();
    expect(d.observeTick(11_500, true, 3)?.meta["condition"]).toBe("stale");
  });

  test("sentinel .status: FAILED is a failure, SUCCESS a completion, a stale one is ignored", () => {
    const d = new HeartbeatDetector("hb", { maxAgeMs: 1e9, startPeriodMs: 0 }, 0);
    d.onChildStart(1, 100);
    d.observeStatus("FAILED", 50, null, 150);
    expect(d.observeTick(200, true, 1)).toBeNull();
    d.observeStatus("FAILED", 150, '{"error": "x"}', 160);
    const f = d.observeTick(200, true, 1)!;
    expect([f.kind, f.meta["condition"], f.meta["result"]]).toEqual(["error", "failed", '{"error": "x"}']);
    d.onChildStart(2, 300);
    d.observeStatus("SUCCESS", 310, null, 320);
    expect(d.observeTick(330, true, 2)?.kind).toBe("completion");
  });
});

describe("health probe", () => {
  test("failures in the start period do not count; N in a row do; a success resets", () => {
    const d = new ProbeDetector(
      "health",
      { target: "http://x/health", failureThreshold: 3, startPeriodMs: 10_000 },
      0,
    );
    d.onChildStart(1, 0);
    for (const t of [1000, 2000, 3000, 4000]) d.observeProbe(false, "connect ECONNREFUSED", t);
    expect(d.observeTick(5000, true, 1)).toBeNull();
    d.observeProbe(true, "HTTP 200", 6000); // ends the start period early
    d.observeProbe(false, "HTTP 503", 7000);
    d.observeProbe(false, "HTTP 503", 8000);
    d.observeProbe(true, "HTTP 200", 9000);
    d.observeProbe(false, "HTTP 503", 10_000);
    d.observeProbe(false, "HTTP 503", 11_000);
    expect(d.observeTick(11_000, true, 1)).toBeNull();
    d.observeProbe(false, "HTTP 500", 12_000);
    const x = d.observeTick(12_000, true, 1)!;
    expect(x.message).toBe("health probe http://x/health failed 3 times in a row (last: HTTP 500)");
    expect(x.meta).toMatchObject({ metric: "health", condition: "unhealthy" });
  });
});

describe("completion", () => {
  test("a marker line or a marker file newer than the child, once per child", () => {
    const d = new CompletionDetector("done", /^TRAINING COMPLETE/, "out/DONE", 0);
    d.onChildStart(1, 1000);
    expect(d.observeLine("step 5", "stdout", 1100, 1)).toBeNull();
    expect(d.observeLine("TRAINING COMPLETE in 3h", "stdout", 1200, 1)?.kind).toBe("completion");
    expect(d.observeLine("TRAINING COMPLETE in 3h", "stdout", 1300, 1)).toBeNull();
    d.onChildStart(2, 5000);
    d.observeMarkerFile(4000, 5100);
    expect(d.observeTick(5100, true, 2)).toBeNull();
    d.observeMarkerFile(5050, 5200);
    expect(d.observeTick(5200, true, 2)?.message).toBe("completion marker file out/DONE written");
  });
});
