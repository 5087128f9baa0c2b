/**
 * @module
 * The JSON a notification becomes for programs (webhook body, command stdin): the Python tool's
 * `{kind, title, body, incident_id}` plus when, where, the readable one-line summary, the detail
 * lines and the incident link.
 */
import * as os from "node:os";
import type { Notification, NotificationDetail } from "../core/types.ts";
import { renderMessage } from "./message.ts";

export interface NotificationPayload {
  kind: Notification["kind"];
  title: string;
  body: string;
  incident_id: string | null;
  /** ISO 8601 UTC, when the notification was raised (not when it was delivered). */
  time: string;
  host: string;
  project: string;
  summary: string;
  detail: string[];
  url: string | null;
  facts: NotificationDetail | null;
}

/** The payload of `n`. */
export function notificationPayload(
  n: Notification,
  opts: { project: string; host?: string | undefined; publicUrl?: string | undefined; now?: () => number },
): NotificationPayload {
  const m = renderMessage(n, { publicUrl: opts.publicUrl });
  return {
    kind: n.kind,
    title: n.title,
    body: n.body,
    incident_id: n.incident_id,
    time: new Date((opts.now ?? Date.now)()).toISOString(),
    host: opts.host ?? os.hostname(),
    project: opts.project,
    summary: m.summary,
    detail: m.detail,
    url: m.url,
    facts: n.detail ?? null,
  };
}
