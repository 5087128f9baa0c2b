/**
 * The config of issue 11: the new detector kinds, the adaptive stall, process.resume and
 * max_run_seconds, the rules' metric/condition keys; errors name the file, line and key.
 */
import { describe, expect, test } from "bun:test";
import { buildDetectors } from "../detectors/build.ts";
import { MetricDetector } from "../detectors/metric/detector.ts";
import { PhaseStallDetector } from "../detectors/phase-stall.ts";
import type { ResourceDetector } from "../detectors/resource.ts";
import { ConfigError, parseConfigText } from "./load.ts";

function errorsOf(text: string): string[] {
  try {
    parseConfigText(text, { file: "c.yaml", root: "/proj", env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split("\n");
    throw err;
  }
  throw new Error("expected a ConfigError");
}
const load = (text: string) => parseConfigText(text, { file: "c.yaml", root: "/proj", env: {} }).data;

const FULL = `
process:
  command: [python, train.py]
  max_run_seconds: 86400
  resume:
    glob: ckpt/step-*.pt
    arg_template: --resume {checkpoint}
    signal: usr1
    signal_wait_seconds: 30
detectors:
  - kind: metric
    metric:
      series: loss
      spike: {factor: 5}
      plateau: {steps: 2000, warmup_steps: 500}
  - kind: metric
    metric: {series: samples/s, nan: false, drop: {percent: 40, seconds: 300}}
  - kind: stall
    metric_regex: 'step (\\d+)'
    adaptive: {factor: 10, floor_seconds: 120, phases: {train: 'step (\\d+)', eval: 'eval (\\d+)'}}
  - kind: resource
    resources:
      disk: {paths: [ckpt], critical_percent: 97}
      memory: {warn: 2GB}
      rss: {critical: 60GB}
      gpu: {memory_percent: {warn: 98}, util_below_percent: 5}
  - kind: heartbeat
    heartbeat: {path: run/heartbeat, max_age_seconds: 120}
  - kind: probe
    probe: {http: "http://127.0.0.1:8000/health", failure_threshold: 2}
    action: none
  - kind: completion
    completion: {marker_regex: '^DONE', grace_seconds: 30}
rules:
  - match: {metric: loss, condition: nan}
    action: {kind: restart_with_env, set: {LR: "*0.5"}}
`;

describe("signals config", () => {
  test("a full example loads with its defaults and paths resolved", () => {
    const c = load(FULL);
    expect(c.process.max_run_seconds).toBe(86400);
    expect(c.process.resume).toMatchObject({
      glob: "ckpt/step-*.pt",
      arg_template: ["--resume", "{checkpoint}"],
      signal: "SIGUSR1",
      min_age_seconds: 5,
    });
    expect(c.detectors[0]!.metric).toMatchObject({ series: "loss", nan: true, step_key: "step" });
    expect(c.detectors[0]!.metric!.spike).toEqual({ factor: 5, window: 50, min_points: 10 });
    expect(c.detectors[3]!.resources!.disk).toEqual({
      paths: ["/proj/ckpt"],
      warn_percent: 90,
      critical_percent: 97,
    });
    expect(c.detectors[3]!.resources!.memory).toEqual({ warn: 2 * 1024 ** 3 });
    expect(c.detectors[4]!.heartbeat!.path).toBe("/proj/run/heartbeat");
    expect(c.monitor.metrics_dir).toBe("/proj/.autosentry/metrics");
    expect(c.rules[0]!.match).toEqual({ metric: "loss", condition: "nan" });
    const ds = buildDetectors(c.detectors);
    expect(ds.map((d) => [d.name, d.kind])).toEqual([
      ["loss", "metric"],
      ["samples/s", "metric"],
      ["stall", "stall"],
      ["resource", "resource"],
      ["heartbeat", "heartbeat"],
      ["probe", "probe"],
      ["completion", "completion"],
      ["exit_code", "exit_code"],
    ]);
    expect(ds[0]).toBeInstanceOf(MetricDetector);
    expect(ds[2]).toBeInstanceOf(PhaseStallDetector);
    expect((ds[3] as ResourceDetector).resources()).toEqual([
      "disk",
      "memory",
      "rss",
      "gpu_memory",
      "gpu_util",
      "gpu_ecc",
      "gpu_xid",
    ]);
  });

  test("a kind without its section, a section on the wrong kind, bad values: file, line and key", () => {
    expect(errorsOf("detectors:\n  - kind: metric\n")).toEqual([
      "c.yaml:2:5: detectors[0].metric: a metric detector needs a metric section",
    ]);
    expect(errorsOf("detectors:\n  - kind: pattern\n    regex: x\n    probe: {tcp: 'a:1'}\n")).toEqual([
      "c.yaml:4:12: detectors[0].probe: probe is only used by probe detectors (this one is pattern)",
    ]);
    expect(errorsOf("detectors:\n  - kind: probe\n    probe: {http: 'http://x', tcp: 'a:1'}\n")).toEqual([
      "c.yaml:3:12: detectors[0].probe: probe needs exactly one of http, tcp",
    ]);
    expect(
      errorsOf("detectors:\n  - kind: metric\n    metric: {series: loss, regex: '(unclosed'}\n")[0],
    ).toMatch(/^c\.yaml:3:\d+: detectors\[0\]\.metric\.regex: /);
    expect(errorsOf("process:\n  resume: {glob: x, signal: 'not a signal'}\n")[0]).toMatch(
      /^c\.yaml:2:\d+: process\.resume\.signal: must be a signal name/,
    );
    expect(
      errorsOf("detectors:\n  - kind: metric\n    metric: {series: loss, plateau: {epsilon: 1}}\n"),
    ).toEqual(["c.yaml:3:37: detectors[0].metric.plateau: plateau needs steps or seconds"]);
  });

  test("two metric detectors of one series need names; rules may name metric detectors by series", () => {
    const two =
      "detectors:\n  - kind: metric\n    metric: {series: loss}\n  - kind: metric\n    metric: {series: loss}\n";
    expect(errorsOf(two)[0]).toMatch(/duplicate detector name "loss"/);
    const ok = load(
      "detectors:\n  - kind: metric\n    metric: {series: loss}\nrules:\n  - match: {detector: loss}\n    action: {kind: restart}\n",
    );
    expect(ok.rules[0]!.match.detector).toBe("loss");
  });
});
