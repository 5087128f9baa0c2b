/**
 * @module
 * What `autosentry watch` shows, gathered from a project's files through the viewer's model
 * (src/web/project.ts): state.json, the in-memory incident index, the config's detectors and the
 * tail of `logs/autosentry.log`. Reads only the end of the log, however long it is.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveDetectorName } from "../config/detector-names.ts";
import { humanDuration, whenAgo } from "../util/durations.ts";
import type { WebProject } from "../web/project.ts";
import type { WatchProject } from "./frame.ts";

/** The last `n` lines of a text file, reading at most its last 64 KiB. */
export function tailLines(file: string, n: number): string[] {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString("utf8").split("\n");
    if (len < size) lines.shift(); // a partial first line
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-n);
  } finally {
    fs.closeSync(fd);
  }
}

const ago = (iso: string | null | undefined, now: number) => {
  if (!iso) return "-";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : t <= now ? `${humanDuration(now - t)} ago` : `in ${humanDuration(t - now)}`;
};

/** The watch model of one project. */
export function watchProject(p: WebProject, now = Date.now()): WatchProject {
  const { state, error } = p.state();
  const alive = p.monitorAlive();
  const cfg = p.cfg.data;
  const names = [...cfg.detectors.map((d, i) => resolveDetectorName(d, i))];
  if (!names.includes("exit_code")) names.push("exit_code");
  const newest = p.incidents.newest(200);
  const detectors = names.map((name) => ({
    name,
    last: newest.find((e) => e.detector === name)?.time ?? null,
  }));
  const logTail = tailLines(path.join(cfg.monitor.log_dir, "autosentry.log"), 60);
  const base = {
    name: p.name,
    incidents: newest.slice(0, 15).map((e) => ({
      id: e.id,
      time: e.time,
      detector: e.detector,
      action: e.action,
      message: e.message,
    })),
    incidentCount: p.incidents.size,
    detectors,
    logTail,
  };
  if (!state) {
    return {
      ...base,
      phase: error ? "unreadable state" : "never run",
      monitor: alive ? "running" : "not running",
      child: "none",
      restarts: "-",
      lastExit: "-",
      nextRestart: null,
      stopReason: error,
      verifying: [],
      heartbeat: "-",
    };
  }
  const terminal = ["completed", "gave_up", "aborted", "stopped", "detached"].includes(state.phase);
  const phase = alive || terminal ? state.phase : `${state.phase} (monitor not running)`;
  const cap = state.max_restarts > 0 ? String(state.max_restarts) : "∞";
  return {
    ...base,
    phase: state.desired === "paused" && !phase.startsWith("paused") ? `${phase} (pause requested)` : phase,
    monitor: alive ? `pid ${state.monitor?.pid ?? "?"}` : "not running",
    child: state.child_running
      ? `pid ${state.pid ?? "?"} generation ${state.generation}, up ${state.child_started_at ? humanDuration(now - Date.parse(state.child_started_at)) : "?"}`
      : state.child_dead_since
        ? `none since ${whenAgo(state.child_dead_since, now)}`
        : "none",
    restarts: `${state.restarts}/${cap} (${state.restarts_total} in all)`,
    lastExit:
      state.last_exit_code === null ? "-" : `${state.last_exit_code} (${state.last_exit_class ?? "?"})`,
    nextRestart: state.next_restart_at ? ago(state.next_restart_at, now) : null,
    stopReason: state.stop_reason,
    verifying: state.pending_verifications.map((v) => `${v.incident_id} closes ${ago(v.deadline, now)}`),
    heartbeat: ago(state.last_heartbeat, now),
  };
}
