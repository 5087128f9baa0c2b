/**
 * @module
 * `dispatch.bridge: true`: the dispatcher inside the monitor, as a Notifier in its fan-out. The
 * outbox notifier still appends every line (the outbox stays the record); the bridge delivers it
 * from there exactly as a standalone `autosentry dispatcher run` would, with the same ledger and
 * the same lock (so a standalone dispatcher and a bridge never deliver one outbox together: the
 * second one steps aside and says so). `notify` only wakes the loop early. `close` makes one last
 * pass (the monitor's "stopping" message) within its timeout. Nothing here can stop supervision:
 * every failure is logged.
 */
import type { LoadedConfig } from "../config/load.ts";
import type { Notification } from "../core/types.ts";
import { acquireLock, LockHeldError } from "../monitor/lock.ts";
import { monitorPaths } from "../monitor/paths.ts";
import type { Notifier } from "../notify/types.ts";
import type { Logger } from "../util/logger.ts";
import { FileControlSink } from "./control-sink.ts";
import { Dispatcher } from "./dispatcher.ts";
import { Ledger } from "./ledger.ts";
import { retryRequestsPath } from "./retry-requests.ts";
import { DispatchSetupError, setupDispatch } from "./select.ts";

export class BridgeNotifier implements Notifier {
  readonly name = "dispatch_bridge";
  private dispatcher: Dispatcher | null = null;
  private release: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly pollMs: number;

  constructor(
    cfg: LoadedConfig,
    private readonly logger: Logger,
    redact: (t: string) => string,
    env: Record<string, string | undefined> = process.env,
  ) {
    this.pollMs = cfg.data.dispatch.poll_seconds * 1000;
    try {
      const setup = setupDispatch(cfg, {}, env);
      try {
        this.release = acquireLock(setup.lockPath).release;
      } catch (err) {
        if (err instanceof LockHeldError) {
          logger.info(
            `dispatch bridge: off — a dispatcher (pid ${err.owner?.pid ?? "?"}) already delivers ${setup.outboxPath}`,
          );
          return;
        }
        throw err;
      }
      this.dispatcher = new Dispatcher({
        backend: setup.backend,
        ledger: new Ledger(setup.ledgerPath),
        outboxPath: setup.outboxPath,
        defaultChannel: setup.channel,
        control: new FileControlSink(monitorPaths(cfg.data)),
        allowedUsers: cfg.data.dispatch.allowed_users,
        publicUrl: cfg.data.web.public_url,
        log: (level, m) => logger.log(level === "INFO" ? "SLACK" : level, `dispatch: ${m}`),
        redact,
        retryRequests: retryRequestsPath(setup.lockPath),
      });
      logger.info(
        `dispatch bridge: ${setup.backend.name} delivers ${setup.outboxPath}${setup.backend.inbound ? "; replies in its threads are commands" : ""}`,
      );
      this.schedule(0);
    } catch (err) {
      const why = err instanceof DispatchSetupError ? err.message : (err as Error).message;
      logger.error(`dispatch bridge: off — ${why}`);
      this.release?.();
      this.release = null;
    }
  }

  private schedule(ms: number): void {
    if (this.closed || !this.dispatcher) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), ms);
  }

  private async pass(): Promise<void> {
    if (!this.dispatcher) return;
    if (this.running) {
      await this.running;
      return;
    }
    this.running = (async () => {
      try {
        const r = await this.dispatcher!.tick();
        if (!this.closed) this.schedule(r.delivered >= 500 ? 0 : this.pollMs);
      } catch (err) {
        this.logger.error(`dispatch bridge: ${(err as Error).message}`);
        if (!this.closed) this.schedule(this.pollMs);
      }
    })().finally(() => {
      this.running = null;
    });
    await this.running;
  }

  notify(_n: Notification): void {
    // The outbox notifier wrote the line already; deliver it soon rather than at the next poll.
    try {
      this.schedule(50);
    } catch {}
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.dispatcher && !this.closed) {
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        (async () => {
          await this.running;
          this.closed = true;
          await this.pass();
        })(),
        new Promise((r) => (t = setTimeout(r, timeoutMs))),
      ]);
      clearTimeout(t);
    }
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.release?.();
    this.release = null;
  }
}
