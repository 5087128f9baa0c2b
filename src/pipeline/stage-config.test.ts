import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type LoadedConfig, parseConfigText } from "../config/load.ts";
import {
  canonicalJson,
  launchRecord,
  stageConfig,
  stageFingerprint,
  stagePreflight,
  stageProcess,
} from "./stage-config.ts";

const load = (text: string): LoadedConfig => {
  const { data, raw } = parseConfigText(text, { file: "c.yaml", root: "/proj", env: {} });
  return { data, raw, path: "/proj/.autosentry/autosentry.yaml", root: "/proj" };
};

const BASE = `process:
  cwd: work
  env: { A: "1", B: "2" }
  lifecycle: one_shot
  max_stage_seconds: 30
  required_env: [HOME]
  restart_policy: { max_restarts: 7, cooldown_seconds: 3 }
  stages:
    - name: prep
      command: [sh, prep.sh]
    - name: train
      command: "python train.py --epochs 3"
      cwd: sub
      env: { B: "20", C: "3" }
      lifecycle: restart_on_failure
      max_stage_seconds: 0
      restart_policy: { max_restarts: 2 }
      required_env: [DATA]
      required_executables: [python]
`;

describe("stage-scoped config", () => {
  test("a stage inherits what it does not set and overrides what it does", () => {
    const cfg = load(BASE);
    const [prep, train] = cfg.data.process.stages;
    const p = stageProcess(cfg.data.process, prep!);
    expect(p.command).toEqual(["sh", "prep.sh"]);
    expect(p.cwd).toBe("/proj/work");
    expect(p.env).toEqual({ A: "1", B: "2" });
    expect(p.lifecycle).toBe("one_shot");
    expect(p.max_stage_seconds).toBe(30);
    expect(p.restart_policy.max_restarts).toBe(7);
    expect(p.restart_policy.cooldown_seconds).toBe(3);
    expect(p.stages).toEqual([]);

    const t = stageProcess(cfg.data.process, train!);
    expect(t.command).toEqual(["python", "train.py", "--epochs", "3"]);
    expect(t.cwd).toBe("/proj/sub");
    expect(t.env).toEqual({ A: "1", B: "20", C: "3" });
    expect(t.lifecycle).toBe("restart_on_failure");
    expect(t.max_stage_seconds).toBe(0);
    // restart_policy is replaced as a whole: the process-level cooldown is not inherited.
    expect(t.restart_policy.max_restarts).toBe(2);
    expect(t.restart_policy.cooldown_seconds).toBe(60);
    expect(t.required_env).toEqual(["HOME", "DATA"]);
    expect(t.required_executables).toEqual(["python"]);
  });

  test("the scoped config logs into the evidence folder and leaves the original alone", () => {
    const cfg = load(BASE);
    const scoped = stageConfig(cfg, cfg.data.process.stages[1]!, "/proj/.autosentry/runs/x/stages/train");
    expect(scoped.data.monitor.log_dir).toBe("/proj/.autosentry/runs/x/stages/train");
    expect(scoped.data.process.command[0]).toBe("python");
    expect(scoped.data.state_path).toBe(cfg.data.state_path);
    expect(cfg.data.monitor.log_dir).toBe("/proj/.autosentry/logs");
    expect(cfg.data.process.stages).toHaveLength(2);
    expect(cfg.data.process.env).toEqual({ A: "1", B: "2" });
  });
});

describe("stage fingerprint", () => {
  const fp = (text: string, i = 0) => {
    const c = load(text).data.process;
    return stageFingerprint(c, c.stages[i]!);
  };

  test("is stable, and canonical JSON ignores key order", () => {
    expect(fp(BASE)).toMatch(/^[0-9a-f]{64}$/);
    expect(fp(BASE)).toBe(fp(BASE));
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(fp(BASE.replace('env: { A: "1", B: "2" }', 'env: { B: "2", A: "1" }'))).toBe(fp(BASE));
  });

  test("changes with what the stage runs: command, cwd, inherited or own env", () => {
    expect(fp(BASE.replace("prep.sh", "prep2.sh"))).not.toBe(fp(BASE));
    expect(fp(BASE.replace("cwd: work", "cwd: elsewhere"))).not.toBe(fp(BASE));
    expect(fp(BASE.replace('A: "1"', 'A: "9"'))).not.toBe(fp(BASE));
    expect(fp(BASE.replace('C: "3"', 'C: "4"'), 1)).not.toBe(fp(BASE, 1));
    // A stage's name is part of it: a renamed stage is a different stage.
    expect(fp(BASE.replace("name: prep", "name: prepare"))).not.toBe(fp(BASE));
  });

  test("does not change with how autosentry watches or heals it", () => {
    const watched = `${BASE.replace("max_restarts: 7", "max_restarts: 70").replace("max_stage_seconds: 30", "max_stage_seconds: 99")}detectors:
  - { name: oom, kind: pattern, regex: "out of memory" }
rules:
  - { match: { detector: oom }, action: { kind: restart } }
monitor:
  settle_seconds: 5
`;
    expect(fp(watched)).toBe(fp(BASE));
    expect(fp(watched, 1)).toBe(fp(BASE, 1));
  });
});

describe("stage preflight and launch.json", () => {
  test("reports the stage's missing cwd, executable and env, against the stage's PATH", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-stage-"));
    try {
      fs.mkdirSync(path.join(dir, "bin"));
      fs.writeFileSync(path.join(dir, "bin", "tool"), "#!/bin/sh\n", { mode: 0o755 });
      const { data, raw } = parseConfigText(
        `process:
  env: { PATH: "${dir}/bin" }
  stages:
    - { name: ok, command: [tool] }
    - { name: bad, command: [nope], cwd: missing, required_env: [TOKEN] }
`,
        { file: "c.yaml", root: dir, env: {} },
      );
      const cfg: LoadedConfig = { data, raw, path: null, root: dir };
      const [ok, bad] = cfg.data.process.stages;
      expect(stagePreflight(cfg.data.process, ok!, {})).toEqual([]);
      expect(stagePreflight(cfg.data.process, bad!, {})).toEqual([
        `Working directory does not exist: ${dir}/missing`,
        "Executable not found or not executable: 'nope' (check stage PATH)",
        "Required environment variable is missing or empty: TOKEN",
      ]);
      const launch = launchRecord(
        cfg,
        ok!,
        { index: 0, count: 2, runId: "r", fingerprint: "f", preflightErrors: [] },
        { SECRET_TOKEN: "hunter2", HOME: "/h" },
      );
      expect(launch.command).toEqual(["tool"]);
      expect(launch.environment_keys).toEqual(["HOME", "PATH", "SECRET_TOKEN"]);
      expect(JSON.stringify(launch)).not.toContain("hunter2");
      expect(launch.stage_index).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
