/**
 * @module
 * Running a dispatcher: take the outbox's lock (one dispatcher per outbox, whether standalone or
 * inside the monitor), open the ledger, and tick every `poll_seconds` until stopped. `--once`
 * ticks once. The lock is also how `doctor` knows that a dispatcher is delivering.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import { acquireLock, LockHeldError, ownerAlive, readLock } from "../monitor/lock.ts";
import { monitorPaths } from "../monitor/paths.ts";
import { FileControlSink } from "./control-sink.ts";
import { Dispatcher, type DispatchLogLevel, type TickResult } from "./dispatcher.ts";
import { Ledger } from "./ledger.ts";
import { retryRequestsPath } from "./retry-requests.ts";
import type { DispatchSetup } from "./select.ts";

export class DispatcherBusyError extends Error {}

export interface RunDispatcherOptions {
  cfg: LoadedConfig;
  setup: DispatchSetup;
  log: (level: DispatchLogLevel, message: string) => void;
  once?: boolean;
  signal?: AbortSignal;
  redact?: (text: string) => string;
  pollMs?: number;
}

/** Whether a dispatcher (standalone or bridged) holds the lock of the outbox at `outboxPath`. */
export function dispatcherAlive(stateDir: string, outboxPath: string): boolean {
  const base = path.basename(outboxPath).replace(/\.jsonl$/, "");
  const lock = readLock(path.join(stateDir, "dispatch", `${base}.lock`));
  return lock !== null && ownerAlive(lock);
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Run until `signal` aborts (or one tick with `once`). Returns the last tick's result. */
export async function runDispatcher(o: RunDispatcherOptions): Promise<TickResult> {
  const { setup, cfg } = o;
  fs.mkdirSync(path.dirname(setup.lockPath), { recursive: true });
  let lock: { release: () => void };
  try {
    lock = acquireLock(setup.lockPath);
  } catch (err) {
    if (err instanceof LockHeldError)
      throw new DispatcherBusyError(
        `another dispatcher delivers ${setup.outboxPath}: pid ${err.owner?.pid ?? "?"} since ${err.owner?.started_at ?? "?"} (lock ${setup.lockPath})`,
      );
    throw err;
  }
  try {
    const ledger = new Ledger(setup.ledgerPath);
    const d = new Dispatcher({
      backend: setup.backend,
      ledger,
      outboxPath: setup.outboxPath,
      defaultChannel: setup.channel,
      control: new FileControlSink(monitorPaths(cfg.data)),
      allowedUsers: cfg.data.dispatch.allowed_users,
      publicUrl: cfg.data.web.public_url,
      log: o.log,
      redact: o.redact,
      retryRequests: retryRequestsPath(setup.lockPath),
    });
    const pollMs = o.pollMs ?? cfg.data.dispatch.poll_seconds * 1000;
    let last: TickResult = { delivered: 0, failed: 0, pending: 0, commands: 0 };
    for (;;) {
      last = await d.tick();
      if (o.once || o.signal?.aborted) return last;
      // A full batch means more is waiting: go on at once.
      if (last.delivered < 500) await wait(pollMs, o.signal);
      // Stopped (SIGTERM/SIGINT): one last pass, so what the monitor said while it stopped goes out.
      if (o.signal?.aborted) return await d.tick({ inbound: false });
    }
  } finally {
    lock.release();
  }
}
