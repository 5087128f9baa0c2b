/**
 * @module
 * The answer to `status` in a thread: a few lines a person reads on a phone.
 */
import { restartsLabel } from "../monitor/policy.ts";
import type { MonitorState } from "../monitor/state.ts";

/** Status of a run from its state.json (null when there is none). */
export function statusText(st: MonitorState | null, monitorAlive: boolean): string {
  if (!st) return "status: no run yet (no state.json)";
  const lines: string[] = [];
  const child = st.child_running && st.pid ? `child pid ${st.pid}` : "no child running";
  lines.push(`status: ${st.phase}${monitorAlive ? "" : " (monitor not running)"} · ${child}`);
  lines.push(
    `restarts: ${restartsLabel(st.restarts, st.max_restarts)} in a row without a verified fix (${st.restarts_total} since the run started)`,
  );
  if (st.desired === "paused") lines.push(`paused by ${st.paused_by ?? "?"} since ${st.paused_at ?? "?"}`);
  if (Object.keys(st.env_overlay ?? {}).length)
    lines.push(
      `env overrides: ${Object.entries(st.env_overlay)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );
  if (st.last_incident_id) lines.push(`last incident: ${st.last_incident_id}`);
  if (st.stop_reason) lines.push(`stop reason: ${st.stop_reason}`);
  return lines.join("\n");
}
