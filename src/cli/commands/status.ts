/**
 * @module
 * `autosentry status [--json]`: what the monitor and its child are doing, read from state.json and
 * the monitor lock. It never talks to the monitor, so it works while the monitor is down.
 * Its config comes from ../status-config.ts (what status needs, validated once per config).
 */
import * as path from "node:path";
import { compileRegex } from "../../config/regex.ts";
import { readDotenv } from "../../config/secret-envs.ts";
import { restartsLabel } from "../../monitor/policy.ts";
import { describeStartupFailures, STARTUP_REPORT_AFTER } from "../../monitor/startup-failures.ts";
import { type MonitorState, readState } from "../../monitor/state.ts";
import { type PipelineStatusReport, pipelineStatus } from "../../pipeline/status.ts";
import { lockAlive, type StatusReport, statusReport } from "../../project/status-report.ts";
import { stringEnv } from "../../redact/known-values.ts";
import { createRedactor } from "../../redact/redactor.ts";
import { escapeControls, escapeJsonControls } from "../../util/terminal-safe.ts";
import { CliExit } from "../exit.ts";
import { clip, humanDuration, keyValues, table, whenAgo } from "../format.ts";
import { writeStdoutSync } from "../output-errors.ts";
import { statusConfig } from "../status-config.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

function renderHuman(r: StatusReport): string {
  const s = r.state;
  const now = Date.now();
  const d = s.child?.details ?? {};
  const who =
    typeof d.jobId === "string" || typeof d.jobId === "number"
      ? `SLURM job ${d.jobId}${typeof d.state === "string" ? ` (${d.state})` : ""}`
      : typeof d.container === "string"
        ? `container ${d.container}`
        : `pid ${r.child.pid ?? "?"}`;
  const child = r.child.running
    ? `running, ${who} (generation ${r.child.generation}), up ${r.child.started_at ? humanDuration(now - Date.parse(r.child.started_at)) : "?"}`
    : r.child.dead_since
      ? `none since ${whenAgo(r.child.dead_since, now)}`
      : "none";
  const pairs: Array<[string, string]> = [
    [
      "monitor",
      r.monitor.running
        ? `running, pid ${r.monitor.pid} since ${whenAgo(r.monitor.since, now)}`
        : "not running",
    ],
    [
      "phase",
      r.phase +
        (r.desired === "paused"
          ? ` (paused since ${whenAgo(s.paused_at, now)} by ${s.paused_by ?? "?"})`
          : ""),
    ],
    ...(s.stage
      ? [["stage", `${s.stage} (${s.stage_index ?? "?"}/${s.stage_count ?? "?"})`] as [string, string]]
      : []),
    ["child", child],
    [
      "last exit",
      r.child.last_exit_code === null && !r.child.last_exit_class
        ? "-"
        : `${r.child.last_exit_code ?? "?"} (${r.child.last_exit_class ?? "?"})`,
    ],
    [
      "restarts",
      `${restartsLabel(r.restarts, r.max_restarts)} in a row without a verified fix (${r.restarts_total} since the run started)`,
    ],
  ];
  if (r.next_restart_at) pairs.push(["next restart", whenAgo(r.next_restart_at, now)]);
  // The child dies within seconds of each launch: the likely reason, said plainly (issue 14 item 2).
  const sf = s.startup_failures;
  if (sf && sf.count >= STARTUP_REPORT_AFTER) pairs.push(["cannot start", describeStartupFailures(sf)]);
  if (Object.keys(r.env_overlay).length) {
    pairs.push([
      "env overrides",
      Object.entries(r.env_overlay)
        .map(([k, v]) => `${k}=${v}`)
        .join(" "),
    ]);
  }
  if (r.pending_verifications)
    pairs.push(["verifying", `${r.pending_verifications} fix(es) inside their window`]);
  // issue 11: process.resume
  if (s.resume) {
    const x = s.resume;
    const verb = r.child.running ? "resumed from" : "resumes from";
    const text =
      x.checkpoint === null
        ? "no complete checkpoint yet (the next run starts from the beginning)"
        : `${x.checkpoint}${x.step !== null ? ` (step ${x.step})` : ""}${x.steps_lost !== null ? `, ${x.steps_lost} step(s) lost (the failed run reached ${x.last_step})` : ""}`;
    pairs.push([verb, text]);
  }
  pairs.push(["anomalies", String(s.anomalies.length)]);
  if (r.last_incident_id) pairs.push(["last incident", r.last_incident_id]);
  pairs.push(["heartbeat", whenAgo(r.last_heartbeat, now)]);
  if (r.stop_reason) pairs.push(["stop reason", r.stop_reason]);
  if (r.exit_code !== null) pairs.push(["exit code", String(r.exit_code)]);
  let out = keyValues(pairs);
  const recent = s.restart_history.slice(-5);
  if (recent.length) {
    out += `\n\nlast restarts:\n${table([
      ["time", "rule", "reason"],
      ...recent.map((h) => [h.time.slice(0, 19).replace("T", " "), h.rule ?? "-", clip(h.reason, 80)]),
    ])}`;
  }
  if (r.stages) out += `\n\n${renderStages(r.stages)}`;
  return out;
}

/** The stages table of a pipeline config, with the latest run. */
function renderStages(p: PipelineStatusReport): string {
  const now = Date.now();
  const dur = (a: string | null, b: string | null) =>
    a ? humanDuration((b ? Date.parse(b) : now) - Date.parse(a)) : "-";
  let head: string;
  if (p.run_id === null) head = "pipeline: not run yet";
  else {
    head = `pipeline run ${p.run_id}: ${p.status}, started ${whenAgo(p.started_at, now)}`;
    if (p.ended_at) head += `, ended ${whenAgo(p.ended_at, now)}`;
    if (p.exit_code !== null) head += ` (exit ${p.exit_code})`;
    if (p.parent_run_id) head += `\nresumes run ${p.parent_run_id}`;
    if (p.reason && !p.controller_running) head += `\n${p.reason}`;
  }
  if (p.error) head += `\n${p.error}`;
  if (p.config_changed) head += "\n(the configured stages differ from this run's: the config changed since)";
  const why = (s: PipelineStatusReport["stages"][number]) =>
    s.status === "complete" || !s.reason ? "" : clip(s.reason, 70);
  const withReason = p.stages.some((s) => why(s) !== "");
  const rows = p.stages.map((s) => [
    String(s.index),
    s.name + (s.current ? " ←" : ""),
    s.status + (s.reused_from ? ` (reused from ${s.reused_from.slice(0, 8)})` : ""),
    s.exit_code === null ? "-" : String(s.exit_code),
    s.restarts === null ? "-" : String(s.restarts),
    s.reused_from ? "-" : dur(s.started_at, s.ended_at),
    ...(withReason ? [why(s)] : []),
  ]);
  const header = ["#", "stage", "status", "exit", "restarts", "time", ...(withReason ? ["reason"] : [])];
  let out = `${head}\n${table([header, ...rows])}`;
  if (p.run_dir) out += `\nevidence: ${p.run_dir} (\`autosentry explain\` summarises a run)`;
  return out;
}

/**
 * What `autosentry status` does (its options are declared in src/cli/tree/status.ts). It reads the
 * config through status-config.ts (validated once per config, not on every call) and writes with
 * writeStdoutSync: together, a status of a running job takes a few ms beyond the runtime's start.
 */
export async function statusCommand(opts: { json?: boolean | undefined } & ConfigFlag): Promise<void> {
  const cfg = await statusConfig(opts.config);
  const stages =
    cfg.stageNames.length > 0
      ? pipelineStatus(
          path.dirname(cfg.statePath),
          cfg.stageNames.map((name) => ({ name })),
          lockAlive(cfg.lockPath),
        )
      : null;
  let state: MonitorState | null;
  try {
    state = readState(cfg.statePath);
  } catch (err) {
    throw new CliExit(1, `autosentry status: ${(err as Error).message}`);
  }
  if (!state) {
    if (opts.json)
      writeStdoutSync(
        `${JSON.stringify({ schema_version: 1, state_path: cfg.statePath, stages, state: null })}\n`,
      );
    else
      writeStdoutSync(
        `No state yet: autosentry has not run here (${cfg.statePath} does not exist).\n` +
          (stages ? `\n${renderStages(stages)}\n` : ""),
      );
    return;
  }
  // state.json keeps a restart_with_env overlay as set (the next launch needs the values); what
  // is shown passes through the project's redactor, and escape sequences are shown, not sent.
  const redactor = createRedactor({
    extraPatterns: cfg.extraPatterns.map((p) => compileRegex(p)),
    allow: cfg.allow,
    secretEnvs: [...cfg.secretEnvs, stringEnv(state.env_overlay), readDotenv(path.join(cfg.root, ".env"))],
  });
  const report = redactor.redactJson(
    statusReport(cfg.statePath, cfg.lockPath, state, stages),
  ) as StatusReport;
  writeStdoutSync(
    opts.json
      ? `${escapeJsonControls(JSON.stringify(report, null, 2))}\n`
      : `${escapeControls(renderHuman(report))}\n`,
  );
}
