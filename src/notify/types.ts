/**
 * @module
 * The Notifier seam. `notify` never throws and never blocks the caller: delivery happens in the
 * background and failures are logged.
 */
import type { Notification } from "../core/types.ts";

export interface Notifier {
  readonly name: string;
  notify(n: Notification): void;
  /** Wait (at most `timeoutMs`) for queued deliveries; used when the monitor exits. */
  close(timeoutMs: number): Promise<void>;
}
