/**
 * @module
 * The `command` notifier: runs an argv (no shell) with the notification as JSON on stdin, one at a
 * time in arrival order, each bounded by a timeout (its whole process group is killed when the
 * timeout hits). `notify` only queues; a failing or hanging program is logged and never reaches
 * supervision. The JSON is the webhook payload (see {@link notificationPayload}).
 */
import type { Notification } from "../core/types.ts";
import type { Logger } from "../util/logger.ts";
import { runCommand } from "../util/run-command.ts";
import { type NotificationPayload, notificationPayload } from "./payload.ts";
import type { Notifier } from "./types.ts";

export interface CommandNotifierOptions {
  argv: string[];
  timeoutMs: number;
  logger: Logger;
  project: string;
  host?: string;
  publicUrl?: string | undefined;
  cwd?: string;
  /** Notifications waiting at most; the oldest is dropped beyond (default 100). */
  queueLimit?: number;
}

export class CommandNotifier implements Notifier {
  readonly name = "command";
  private readonly queue: NotificationPayload[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly opts: CommandNotifierOptions) {}

  notify(n: Notification): void {
    try {
      if (this.closed) return;
      if (this.queue.length >= (this.opts.queueLimit ?? 100)) {
        const old = this.queue.shift();
        this.log("WARN", `command notifier: queue full, dropped [${old?.kind}] ${old?.title}`);
      }
      this.queue.push(notificationPayload(n, this.opts));
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
    } catch {
      // The seam promises notify never throws.
    }
  }

  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    const d = this.draining;
    if (!d) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([d, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    if (this.queue.length > 0) {
      this.log("WARN", `command notifier: gave up on ${this.queue.length} notification(s) at exit`);
      this.queue.length = 0;
    }
  }

  private async drain(): Promise<void> {
    for (let p = this.queue.shift(); p !== undefined; p = this.queue.shift()) {
      const argv0 = this.opts.argv[0] ?? "";
      try {
        const r = await runCommand(this.opts.argv, {
          cwd: this.opts.cwd ?? process.cwd(),
          env: process.env,
          timeoutMs: this.opts.timeoutMs,
          input: `${JSON.stringify(p)}\n`,
          maxOutputBytes: 16 * 1024,
        });
        if (r.error) this.log("ERROR", `command notifier: ${r.error}`);
        else if (r.timedOut)
          this.log("ERROR", `command notifier: ${argv0} did not finish within ${this.opts.timeoutMs} ms`);
        else if (r.exitCode !== 0)
          this.log(
            "ERROR",
            `command notifier: ${argv0} exited ${r.exitCode ?? r.signal}: ${r.output.trim().slice(0, 300)}`,
          );
      } catch (err) {
        this.log("ERROR", `command notifier: cannot run ${argv0}: ${(err as Error).message}`);
      }
    }
  }

  private log(level: "WARN" | "ERROR", msg: string): void {
    try {
      this.opts.logger.log(level, msg);
    } catch {}
  }
}
