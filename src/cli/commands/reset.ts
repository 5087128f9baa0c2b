import { acquireLock, LockHeldError, ownerAlive, readLock } from "../../monitor/lock.ts";
import { monitorPaths } from "../../monitor/paths.ts";
import {
  appendResetLog,
  applyReset,
  type ResetRecord,
  resetApplied,
  resetId,
  sendReset,
} from "../../monitor/reset.ts";
import { type MonitorState, readState } from "../../monitor/state.ts";
import { accountName } from "../../util/account.ts";
import { writeJsonAtomicSync } from "../../util/atomic-write.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/** How long to wait for a running monitor to record the reset. */
const ACK_TIMEOUT_MS = 20_000;

function describe(r: ResetRecord): string {
  const parts = [`restarts ${r.prior_restarts} → 0 (${r.prior_restarts_total} in all, kept)`];
  if (r.unpaused) parts.push("pause lifted");
  if (r.cleared_history) parts.push("restart history cleared");
  return parts.join("; ");
}

/** `reset`'s options. */
interface ResetCliOptions extends ConfigFlag {
  reason: string;
  full?: boolean | undefined;
  force?: boolean | undefined;
  restart: boolean;
  wait: boolean;
}

/** What `autosentry reset` does (its options are declared in src/cli/tree/reset.ts). */
export async function resetCommand(opts: ResetCliOptions): Promise<void> {
  if (opts.full && !opts.force)
    throw new CliExit(
      EXIT.usage,
      "autosentry reset: --full clears the restart history: add --force to confirm",
    );
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  const paths = monitorPaths(cfg.data);
  const req = { id: resetId(), reason: opts.reason, by: accountName(), full: opts.full === true };
  const lock = readLock(paths.lock);
  if (lock && ownerAlive(lock)) {
    sendReset(paths.control, req);
    if (!opts.wait) {
      process.stdout.write(`reset sent to the monitor (pid ${lock.pid})\n`);
      return;
    }
    const deadline = Date.now() + ACK_TIMEOUT_MS;
    while (Date.now() < deadline) {
      await Bun.sleep(200);
      let st: MonitorState | null = null;
      try {
        st = readState(paths.state);
      } catch {
        continue;
      }
      if (resetApplied(st, req.id)) {
        const rec = st!.reset_history.find((r) => (r as ResetRecord).id === req.id) as ResetRecord;
        process.stdout.write(`reset: ${describe(rec)} (monitor pid ${lock.pid})\n`);
        return;
      }
    }
    throw new CliExit(
      EXIT.failure,
      `autosentry reset: the monitor (pid ${lock.pid}) did not confirm within ${ACK_TIMEOUT_MS / 1000}s; a monitor older than this autosentry does not know reset: stop it (autosentry abort) and reset again`,
    );
  }
  let held: { release: () => void };
  try {
    held = acquireLock(paths.lock);
  } catch (err) {
    if (err instanceof LockHeldError)
      throw new CliExit(EXIT.failure, `autosentry reset: ${err.message}; try again`);
    throw err;
  }
  try {
    let st: MonitorState | null;
    try {
      st = readState(paths.state);
    } catch (err) {
      throw new CliExit(
        EXIT.failure,
        `autosentry reset: ${(err as Error).message} (autosentry doctor --fix moves it aside)`,
      );
    }
    if (!st) throw new CliExit(EXIT.failure, `Cannot reset: no ${paths.state} (nothing has run yet)`);
    const rec = applyReset(st, req);
    if (st.phase === "paused") st.phase = "stopped";
    writeJsonAtomicSync(paths.state, st);
    appendResetLog(paths.logDir, rec);
    process.stdout.write(
      `reset: ${describe(rec)}; no monitor is running: start one with \`autosentry run\`\n`,
    );
  } finally {
    held.release();
  }
}
