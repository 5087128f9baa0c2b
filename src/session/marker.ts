/**
 * @module
 * The session dispatch marker (`dispatch.request_marker`): under `dispatch.mode: session` the monitor
 * touches it for every incident, so a watcher (a session's Stop hook, a file watcher, a cron job) can
 * tell cheaply that something new waits, without parsing the index. Its content is the newest
 * waiting incident id and the time, written atomically; its mtime is what watchers compare.
 */
import * as fs from "node:fs";
import { writeFileAtomicSync } from "../util/atomic-write.ts";

/** Write the marker for `incidentId` (atomically; its mtime moves forward). */
export function touchSessionMarker(markerPath: string, incidentId: string, nowMs: number = Date.now()): void {
  writeFileAtomicSync(
    markerPath,
    `${JSON.stringify({ incident_id: incidentId, time: new Date(nowMs).toISOString() })}\n`,
  );
}

/** The marker's content, or null when there is none (or it is unreadable). */
export function readSessionMarker(markerPath: string): { incident_id: string; time: string } | null {
  try {
    const v = JSON.parse(fs.readFileSync(markerPath, "utf8")) as { incident_id?: unknown; time?: unknown };
    return typeof v.incident_id === "string" && typeof v.time === "string"
      ? { incident_id: v.incident_id, time: v.time }
      : null;
  } catch {
    return null;
  }
}
