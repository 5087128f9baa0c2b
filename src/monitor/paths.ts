/**
 * @module
 * Files the monitor keeps next to state.json (by default in `.autosentry/`).
 */
import * as path from "node:path";
import type { ConfigData } from "../config/schema.ts";

export interface MonitorPaths {
  state: string;
  lock: string;
  control: string;
  /** Exit files and other per-child runtime files. */
  runDir: string;
  logDir: string;
  journal: string;
  monitorLog: string;
  incidents: string;
}

/** Paths derived from a loaded (absolute-path) config. */
export function monitorPaths(cfg: ConfigData): MonitorPaths {
  const dir = path.dirname(cfg.state_path);
  return {
    state: cfg.state_path,
    lock: path.join(dir, "monitor.lock"),
    control: path.join(dir, "control.jsonl"),
    runDir: path.join(dir, "run"),
    logDir: cfg.monitor.log_dir,
    journal: path.join(cfg.monitor.log_dir, "events.jsonl"),
    monitorLog: path.join(cfg.monitor.log_dir, "autosentry.log"),
    incidents: cfg.incidents_dir,
  };
}
