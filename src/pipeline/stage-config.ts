/**
 * @module
 * A stage's view of the config. A pipeline stage runs under an ordinary {@link Monitor} built from
 * a copy of the loaded config in which `process` is the stage (StageSpec inheritance, inventory §3):
 * its command; its cwd or process.cwd; process.env with the stage's env on top; its restart_policy
 * (as a whole) or process.restart_policy; its lifecycle and max_stage_seconds or the process ones;
 * process.required_* followed by the stage's. `stages` is emptied, and `monitor.log_dir` is the
 * stage's evidence folder, so process.log, autosentry.log and events.jsonl land there.
 *
 * The fingerprint that decides whether a completed stage may be skipped covers what the stage
 * *runs*: its name, backend kind, command, cwd, environment (process.env + stage env) and backend
 * settings (`extra`). Restart policy, lifecycle, deadlines, preflight requirements, detectors,
 * rules, healing, notifiers and monitor settings change how autosentry watches and heals, not what
 * a completed stage produced, so editing them (typically: adding the rule or the restart budget
 * that gets a failed stage through) does not force the stages that already completed to rerun.
 */
import { createHash } from "node:crypto";
import { resolveDetectorName } from "../config/detector-names.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ConfigData, ProcessConfig, StageSpec } from "../config/schema.ts";
import { childEnvironment } from "../healers/env-overlay.ts";
import { processPreflight } from "../monitor/preflight.ts";

/** The `process` section as `stage` sees it. */
export function stageProcess(p: ProcessConfig, stage: StageSpec): ProcessConfig {
  return {
    ...structuredClone(p),
    command: [...stage.command],
    cwd: stage.cwd ?? p.cwd,
    env: { ...p.env, ...stage.env },
    restart_policy: structuredClone(stage.restart_policy ?? p.restart_policy),
    lifecycle: stage.lifecycle ?? p.lifecycle,
    max_stage_seconds: stage.max_stage_seconds ?? p.max_stage_seconds,
    required_executables: [...p.required_executables, ...stage.required_executables],
    required_env: [...p.required_env, ...stage.required_env],
    stages: [],
  };
}

/** A copy of `cfg` whose process is `stage` and whose logs go to `evidenceDir`. */
export function stageConfig(cfg: LoadedConfig, stage: StageSpec, evidenceDir: string): LoadedConfig {
  const data: ConfigData = structuredClone(cfg.data);
  data.process = stageProcess(cfg.data.process, stage);
  data.monitor.log_dir = evidenceDir;
  return { ...cfg, data };
}

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) sorted[k] = o[k];
    return sorted;
  });
}

/** The part of the scoped process config that the fingerprint covers (see the module comment). */
export function stageIdentity(p: ProcessConfig, stage: StageSpec): Record<string, unknown> {
  const s = stageProcess(p, stage);
  return { stage: stage.name, kind: s.kind, command: s.command, cwd: s.cwd, env: s.env, extra: s.extra };
}

/** SHA-256 (hex) of {@link stageIdentity} as canonical JSON. */
export function stageFingerprint(p: ProcessConfig, stage: StageSpec): string {
  return createHash("sha256")
    .update(canonicalJson(stageIdentity(p, stage)))
    .digest("hex");
}

/** Launch preflight for one stage (cwd, executables on the child's PATH, required env). */
export function stagePreflight(
  p: ProcessConfig,
  stage: StageSpec,
  env: Record<string, string | undefined> = process.env,
): string[] {
  return processPreflight(stageProcess(p, stage), env).map((e) =>
    e.replace("(check PATH)", "(check stage PATH)"),
  );
}

/** What `launch.json` records about a stage's launch (names of env variables, never values). */
export function launchRecord(
  cfg: LoadedConfig,
  stage: StageSpec,
  info: { index: number; count: number; runId: string; fingerprint: string; preflightErrors: string[] },
  env: Record<string, string | undefined> = process.env,
): Record<string, unknown> {
  const c = cfg.data;
  const s = stageProcess(c.process, stage);
  return {
    schema_version: 1,
    run_id: info.runId,
    stage: stage.name,
    stage_index: info.index + 1,
    stage_count: info.count,
    written_at: new Date().toISOString(),
    kind: s.kind,
    command: s.command,
    cwd: s.cwd,
    environment_keys: Object.keys(childEnvironment(env, s.env, {})).sort(),
    config_env_keys: Object.keys(s.env).sort(),
    required_executables: s.required_executables,
    required_env: s.required_env,
    restart_policy: s.restart_policy,
    lifecycle: s.lifecycle,
    max_stage_seconds: s.max_stage_seconds,
    detectors: c.detectors.map((d, i) => ({ name: resolveDetectorName(d, i), kind: d.kind })),
    rules: c.rules.map((r) => r.name ?? r.match.detector ?? null),
    healer_mode: c.healing.claude.mode,
    healer_enabled: c.healing.claude.enabled,
    fingerprint: info.fingerprint,
    preflight_errors: info.preflightErrors,
  };
}
