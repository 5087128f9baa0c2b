/**
 * @module
 * Fan-out to several notifiers, the per-notifier `events` filter, and redaction of what leaves. One notifier failing (even
 * throwing, against the seam's contract) never keeps a notification from the others.
 */
import type { Notification, NotificationKind } from "../core/types.ts";
import type { Logger } from "../util/logger.ts";
import type { Notifier } from "./types.ts";

/** Passes on only the notification kinds in `events`. */
export class FilteredNotifier implements Notifier {
  readonly name: string;
  private readonly events: ReadonlySet<NotificationKind>;

  constructor(
    private readonly inner: Notifier,
    events: readonly NotificationKind[],
  ) {
    this.name = inner.name;
    this.events = new Set(events);
  }

  notify(n: Notification): void {
    if (this.events.has(n.kind)) this.inner.notify(n);
  }

  close(timeoutMs: number): Promise<void> {
    return this.inner.close(timeoutMs);
  }
}

/** Passes title and body through `redact` before the inner notifier sees them. */
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
    } catch {
      // A redactor that fails must not let the unredacted text through.
      safe = { ...n, title: "[notification withheld: redaction failed]", body: "" };
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
