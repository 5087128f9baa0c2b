/**
 * @module
 * Fan-out to several notifiers, the per-notifier `events` filter, and redaction of what leaves. One notifier failing (even
 * throwing, against the seam's contract) never keeps a notification from the others.
 */
import type { Notification, NotificationDetail, NotificationKind } from "../core/types.ts";
import type { Logger } from "../util/logger.ts";
import type { Notifier } from "./types.ts";

/**
 * Passes on only the notification kinds in `events` (all when undefined) and, of notifications
 * about a detector, only those of `detectors` (all when undefined). A notification about no
 * detector (monitor start/stop, give-up) passes the detector filter: it concerns every detector.
 */
export class FilteredNotifier implements Notifier {
  readonly name: string;
  private readonly events: ReadonlySet<NotificationKind> | null;
  private readonly detectors: ReadonlySet<string> | null;

  constructor(
    private readonly inner: Notifier,
    events: readonly NotificationKind[] | undefined,
    detectors?: readonly string[] | undefined,
  ) {
    this.name = inner.name;
    this.events = events ? new Set(events) : null;
    this.detectors = detectors ? new Set(detectors) : null;
  }

  notify(n: Notification): void {
    if (this.events && !this.events.has(n.kind)) return;
    const d = n.detail?.detector;
    if (this.detectors && d !== undefined && !this.detectors.has(d)) return;
    this.inner.notify(n);
  }

  close(timeoutMs: number): Promise<void> {
    return this.inner.close(timeoutMs);
  }
}

/** Every free-text field of `d` through `redact` (ids, counts and the fingerprint are not text from the job). */
function redactDetail(d: NotificationDetail, redact: (t: string) => string): NotificationDetail {
  const out: NotificationDetail = { ...d };
  for (const k of ["subject", "what", "action", "exception", "frame"] as const) {
    const v = d[k];
    if (typeof v === "string") out[k] = redact(v);
  }
  return out;
}

/** Passes title, body and the detail's text through `redact` before the inner notifier sees them. */
export class RedactingNotifier implements Notifier {
  readonly name: string;

  constructor(
    private readonly inner: Notifier,
    private readonly redact: (text: string) => string,
  ) {
    this.name = inner.name;
  }

  notify(n: Notification): void {
    let safe: Notification;
    try {
      safe = { ...n, title: this.redact(n.title), body: this.redact(n.body) };
      if (n.detail) safe.detail = redactDetail(n.detail, this.redact);
    } catch {
      // A redactor that fails must not let the unredacted text through.
      safe = {
        kind: n.kind,
        title: "[notification withheld: redaction failed]",
        body: "",
        incident_id: n.incident_id,
      };
    }
    this.inner.notify(safe);
  }

  close(timeoutMs: number): Promise<void> {
    return this.inner.close(timeoutMs);
  }
}

/** Forwards every notification to each of `notifiers`; `close` waits for all of them in parallel. */
export class Fanout implements Notifier {
  readonly name = "fanout";

  constructor(
    readonly notifiers: readonly Notifier[],
    private readonly logger?: Logger,
  ) {}

  notify(n: Notification): void {
    for (const x of this.notifiers) {
      try {
        x.notify(n);
      } catch (err) {
        try {
          this.logger?.error(`notifier ${x.name} failed: ${(err as Error).message}`);
        } catch {}
      }
    }
  }

  async close(timeoutMs: number): Promise<void> {
    await Promise.all(this.notifiers.map((x) => x.close(timeoutMs).catch(() => {})));
  }
}
