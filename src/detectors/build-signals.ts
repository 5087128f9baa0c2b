/**
 * @module
 * Detectors of issue 11 from their config specs: metric, resource, heartbeat, probe, completion,
 * and the adaptive (phase-aware) stall. Kept apart from build.ts so the two grow independently.
 */
import { compileRegex } from "../config/regex.ts";
import type { DetectorSpec } from "../config/schema.ts";
import { CompletionDetector } from "./completion.ts";
import { HeartbeatDetector } from "./heartbeat.ts";
import {
  BoundCondition,
  DropCondition,
  type MetricCondition,
  NanCondition,
  PlateauCondition,
  SpikeCondition,
} from "./metric/conditions.ts";
import { MetricDetector } from "./metric/detector.ts";
import { KeyReader, RegexReader } from "./metric/extract.ts";
import { type PhaseSpec, PhaseStallDetector } from "./phase-stall.ts";
import { ProbeDetector } from "./probe.ts";
import { ResourceDetector, type ResourceLimit } from "./resource.ts";
import type { Detector } from "./types.ts";

type Spec<K extends string> = DetectorSpec & { kind: K };

export function buildMetricDetector(spec: DetectorSpec, name: string, cooldownMs: number): Detector {
  const m = spec.metric;
  if (!m) throw new Error(`detector ${name}: a metric detector needs a metric section`);
  const conds: MetricCondition[] = [];
  if (m.nan) conds.push(new NanCondition());
  if (m.spike) conds.push(new SpikeCondition(m.spike));
  if (m.plateau) conds.push(new PlateauCondition(m.plateau));
  if (m.drop) conds.push(new DropCondition(m.drop));
  if (m.above !== undefined) conds.push(new BoundCondition("above", m.above));
  if (m.below !== undefined) conds.push(new BoundCondition("below", m.below));
  const reader = m.regex !== undefined ? new RegexReader(compileRegex(m.regex)) : new KeyReader(m.series);
  const step = m.step_key === "" ? null : new KeyReader(m.step_key);
  return new MetricDetector(name, m.series, reader, step, conds, cooldownMs);
}

export function buildAdaptiveStall(spec: DetectorSpec, name: string, cooldownMs: number): Detector {
  const a = spec.adaptive!;
  const phases: PhaseSpec[] = Object.entries(a.phases).map(([n, re]) => ({
    name: n,
    regex: compileRegex(re),
  }));
  if (phases.length === 0) {
    phases.push({ name: "progress", regex: spec.metric_regex ? compileRegex(spec.metric_regex) : null });
  }
  return new PhaseStallDetector(
    name,
    phases,
    {
      factor: a.factor,
      floorMs: a.floor_seconds * 1000,
      fallbackMs: (spec.no_progress_seconds ?? 1800) * 1000,
      window: a.window,
      minIntervals: a.min_intervals,
    },
    cooldownMs,
  );
}

/** The limits a resource spec sets (only the resources it names are sampled). */
export function resourceLimits(spec: DetectorSpec): Record<string, ResourceLimit> {
  const r = spec.resources;
  const out: Record<string, ResourceLimit> = {};
  if (!r) return out;
  const lim = (
    direction: ResourceLimit["direction"],
    unit: ResourceLimit["unit"],
    l: { warn?: number | undefined; critical?: number | undefined },
    sustainMs = 0,
  ): ResourceLimit => ({ direction, unit, warn: l.warn ?? null, critical: l.critical ?? null, sustainMs });
  if (r.disk)
    out["disk"] = lim("above", "percent", { warn: r.disk.warn_percent, critical: r.disk.critical_percent });
  if (r.memory) out["memory"] = lim("below", "bytes", r.memory);
  if (r.rss) out["rss"] = lim("above", "bytes", r.rss);
  if (r.fds) out["fds"] = lim("above", "count", r.fds);
  const g = r.gpu;
  if (g) {
    if (g.memory_percent) out["gpu_memory"] = lim("above", "percent", g.memory_percent);
    if (g.util_below_percent !== undefined) {
      out["gpu_util"] = lim("below", "percent", { warn: g.util_below_percent }, g.util_seconds * 1000);
    }
    // ECC and Xid readings are counts of new errors since the last sampling: any is critical
    if (g.ecc) out["gpu_ecc"] = lim("above", "count", { critical: 0 });
    if (g.xid_command.length > 0) out["gpu_xid"] = lim("above", "count", { critical: 0 });
  }
  return out;
}

export function buildSignalDetector(spec: DetectorSpec, name: string, cooldownMs: number): Detector | null {
  switch (spec.kind) {
    case "metric":
      return buildMetricDetector(spec, name, cooldownMs);
    case "resource":
      return new ResourceDetector(name, resourceLimits(spec), cooldownMs);
    case "heartbeat": {
      const h = (spec as Spec<"heartbeat">).heartbeat!;
      return new HeartbeatDetector(
        name,
        { maxAgeMs: h.max_age_seconds * 1000, startPeriodMs: h.start_period_seconds * 1000 },
        cooldownMs,
      );
    }
    case "probe": {
      const p = spec.probe!;
      return new ProbeDetector(
        name,
        {
          target: p.http ?? `tcp ${p.tcp}`,
          failureThreshold: p.failure_threshold,
          startPeriodMs: p.start_period_seconds * 1000,
        },
        cooldownMs,
      );
    }
    case "completion": {
      const c = spec.completion!;
      return new CompletionDetector(
        name,
        c.marker_regex !== undefined ? compileRegex(c.marker_regex) : null,
        c.marker_file ?? null,
        cooldownMs,
      );
    }
    default:
      return null;
  }
}
