/**
 * @module
 * Folding repeats: the first notification of a failure (by `detail.fingerprint`) goes out at once;
 * repeats of it within `windowMs` are held, and when the window closes they leave as one message
 * with a count ("train.py: CUDA out of memory ×7 in 10 min, healed each time"). A notification
 * without a fingerprint, or of a kind other than anomaly/recovery, always passes untouched: exits,
 * starts and give-ups must never wait. `close` flushes what is held, so nothing is lost at exit.
 */
import type { Notification } from "../core/types.ts";
import { foldedNotification } from "./message.ts";
import type { Notifier } from "./types.ts";

interface Held {
  first: Notification;
  firstAt: number;
  last: Notification | null;
  /** Repeats held after the first (the first went out). */
  repeats: number;
  healedAll: boolean;
  healedAny: boolean;
  timer: ReturnType<typeof setTimeout>;
}

export class FoldingNotifier implements Notifier {
  readonly name: string;
  private readonly held = new Map<string, Held>();

  constructor(
    readonly inner: Notifier,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.name = inner.name;
  }

  notify(n: Notification): void {
    const fp = n.detail?.fingerprint;
    if (!fp || this.windowMs <= 0 || (n.kind !== "anomaly" && n.kind !== "recovery")) {
      this.inner.notify(n);
      return;
    }
    const h = this.held.get(fp);
    if (!h) {
      this.inner.notify(n);
      const timer = setTimeout(() => this.flush(fp), this.windowMs);
      timer.unref?.();
      const healed = n.detail?.healed === true;
      this.held.set(fp, {
        first: n,
        firstAt: this.now(),
        last: null,
        repeats: 0,
        healedAll: healed,
        healedAny: healed,
        timer,
      });
      return;
    }
    h.repeats++;
    h.last = n;
    const healed = n.detail?.healed === true;
    h.healedAll &&= healed;
    h.healedAny ||= healed;
  }

  /** Send what is held for `fp` (nothing when there was no repeat) and forget it. */
  private flush(fp: string): void {
    const h = this.held.get(fp);
    if (!h) return;
    this.held.delete(fp);
    clearTimeout(h.timer);
    if (h.repeats === 0 || !h.last) return;
    // Count the first occurrence too: "×7" means seven failures, six of them folded here.
    const count = h.repeats + 1;
    this.inner.notify(
      foldedNotification(h.first, h.last, count, h.healedAll, h.healedAny, this.now() - h.firstAt),
    );
  }

  async close(timeoutMs: number): Promise<void> {
    for (const fp of [...this.held.keys()]) this.flush(fp);
    await this.inner.close(timeoutMs);
  }
}
