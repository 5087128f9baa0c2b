/**
 * @module
 * The `log` notifier: `<title> — <body>[ (incident: <id>)]` into the monitor's log, at ANOMALY for
 * anomalies, RECOVERY for recoveries and INFO otherwise (inventory §4.12).
 */
import type { Notification } from "../core/types.ts";
import type { Logger, LogLevel } from "../util/logger.ts";
import type { Notifier } from "./types.ts";

/** The log line of a notification (also used by other notifiers for their own messages). */
export function notificationLine(n: Notification): string {
  const body = n.body === "" ? "" : ` — ${n.body}`;
  // The monitor's bodies already say `incident=<id>` (the Python tool's format): name it once.
  const named = n.incident_id === null || n.body.includes(`incident=${n.incident_id}`);
  return `${n.title}${body}${named ? "" : ` (incident: ${n.incident_id})`}`;
}

function level(n: Notification): LogLevel {
  if (n.kind === "anomaly") return "ANOMALY";
  if (n.kind === "recovery") return "RECOVERY";
  return "INFO";
}

export class LogNotifier implements Notifier {
  readonly name = "log";
  constructor(private readonly logger: Logger) {}

  notify(n: Notification): void {
    try {
      this.logger.log(level(n), notificationLine(n));
    } catch {
      // The seam promises notify never throws.
    }
  }

  async close(_timeoutMs: number): Promise<void> {}
}
