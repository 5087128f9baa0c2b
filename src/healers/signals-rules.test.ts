/**
 * Rules that match issue 11's detections by metric and condition, the rules a detector's `action`
 * implies, and restart_with_env's factor.
 */
import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../config/load.ts";
import type { Detection } from "../core/types.ts";
import { resolveOverlay } from "./env-overlay.ts";
import { impliedRules } from "./implied-rules.ts";
import { compileRules, firstMatch } from "./rules.ts";

const det = (detector: string, meta: Detection["meta"]): Detection => ({
  detector,
  detectorKind: "metric",
  kind: "error",
  message: "m",
  context: [],
  meta,
  at: 0,
  generation: 1,
});

describe("matching metric and condition", () => {
  test("metric and condition must both hold", () => {
    const c = parseConfigText(
      [
        "detectors:",
        "  - kind: metric",
        "    metric: {series: loss, spike: {}}",
        "rules:",
        "  - match: {metric: loss, condition: nan}",
        "    action: {kind: restart_with_env, set: {LR: '*0.5'}}",
        "  - match: {condition: spike}",
        "    action: {kind: pause}",
      ].join("\n"),
      { file: "c.yaml", root: "/p", env: {} },
    ).data;
    const rules = compileRules(c.rules);
    expect(firstMatch(rules, [det("loss", { metric: "loss", condition: "nan" })])?.rule.action.kind).toBe(
      "restart_with_env",
    );
    expect(firstMatch(rules, [det("loss", { metric: "loss", condition: "spike" })])?.rule.action.kind).toBe(
      "pause",
    );
    expect(firstMatch(rules, [det("g", { metric: "grad_norm", condition: "nan" })])).toBeNull();
    expect(firstMatch(rules, [det("x", {})])).toBeNull();
  });
});

describe("implied rules", () => {
  test("heartbeat and probe restart, resources pause on critical only, metric implies nothing, none turns it off", () => {
    const c = parseConfigText(
      [
        "detectors:",
        "  - kind: heartbeat",
        "    heartbeat: {path: hb}",
        "  - kind: probe",
        "    probe: {tcp: '127.0.0.1:1'}",
        "    action: none",
        "  - kind: resource",
        "    name: disk",
        "    resources: {disk: {}}",
        "  - kind: metric",
        "    metric: {series: loss}",
        "  - kind: completion",
        "    completion: {marker_regex: DONE}",
      ].join("\n"),
      { file: "c.yaml", root: "/p", env: {} },
    ).data;
    const rules = impliedRules(c.detectors);
    expect(rules.map((r) => [r.name, r.action.kind, r.condition])).toEqual([
      ["heartbeat (implied: restart)", "restart", undefined],
      ["disk (implied: pause)", "pause", "critical"],
    ]);
    expect(firstMatch(rules, [det("disk", { metric: "disk", condition: "warn" })])).toBeNull();
    expect(
      firstMatch(rules, [det("disk", { metric: "disk", condition: "critical" })])?.rule.action.kind,
    ).toBe("pause");
  });
});

describe("restart_with_env by a factor", () => {
  const src = (v: Record<string, string>) => ({ overlay: {}, processEnv: v, monitorEnv: {} });
  test("floats, integers and exponents", () => {
    expect(resolveOverlay({ LR: "*0.5" }, src({ LR: "3e-4" })).values).toEqual({ LR: "0.00015" });
    expect(resolveOverlay({ LR: "* 0.1" }, src({ LR: "0.003" })).values).toEqual({ LR: "0.0003" });
    expect(resolveOverlay({ B: "*0.5" }, src({ B: "64" })).values).toEqual({ B: "32" });
    expect(resolveOverlay({ B: "*0.3" }, src({ B: "2" })).values).toEqual({ B: "1" });
    expect(resolveOverlay({ B: "*2" }, src({ B: "64" })).values).toEqual({ B: "128" });
    const r = resolveOverlay({ LR: "*0.5" }, src({ LR: "3e-4" }));
    expect(r.notes).toEqual(["LR=0.00015 (3e-4 × 0.5 from process.env)"]);
  });

  test("a missing or non-numeric base is an error, not a silent restart", () => {
    expect(resolveOverlay({ LR: "*0.5" }, src({})).errors[0]).toMatch(
      /LR: cannot scale by 0.5: the variable is not set/,
    );
    expect(resolveOverlay({ LR: "*0.5" }, src({ LR: "auto" })).errors[0]).toMatch(/non-numeric value "auto"/);
    // not a factor: a literal value
    expect(resolveOverlay({ GLOB: "*.pt" }, src({})).values).toEqual({ GLOB: "*.pt" });
  });
});
