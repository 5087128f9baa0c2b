/**
 * @module
 * Operator commands (pause, resume, abort, approve) applied to one project from outside its
 * monitor: through the running monitor's inbox (`.autosentry/control.jsonl`), waiting until it has
 * applied them, or without a monitor on the durable state in state.json. Shared by
 * `autosentry pause|resume|abort|approve` (src/cli/commands/operator.ts) and `autosentry web`.
 */
import * as fs from "node:fs";
import type { LoadedConfig } from "../config/load.ts";
import { ledgerPath, updateAttempt } from "../fixes/ledger.ts";
import { type ControlVerb, sendControl } from "../monitor/control.ts";
import { acquireLock, LockHeldError, ownerAlive, readLock } from "../monitor/lock.ts";
import { monitorPaths } from "../monitor/paths.ts";
import { emptyState, type MonitorState, readState } from "../monitor/state.ts";
import { accountName } from "../util/account.ts";
import { writeJsonAtomicSync } from "../util/atomic-write.ts";
import { killGroupGracefully, pidAlive } from "../util/proc.ts";

/** The verbs an operator sends from the CLI or the viewer (chat threads also send status, set and note: src/dispatcher). */
export type OperatorVerb = Extract<ControlVerb, "pause" | "resume" | "abort" | "approve">;

/** An operator command that did not happen; `exitCode` is what the CLI exits with (1, or 2 for usage). */
export class OperateError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = "OperateError";
  }
}

/** How long to wait for the monitor to confirm, beyond the child's stop grace period. */
const ACK_MARGIN_MS = 15_000;

async function waitForAck(
  statePath: string,
  controlPath: string,
  verb: OperatorVerb,
  timeoutMs: number,
): Promise<{ state: MonitorState | null; confirmed: boolean }> {
  const target = fs.statSync(controlPath).size;
  const deadline = Date.now() + timeoutMs;
  let st: MonitorState | null = null;
  while (Date.now() < deadline) {
    await Bun.sleep(200);
    try {
      st = readState(statePath);
    } catch {
      continue;
    }
    if (!st || st.control_offset < target) continue;
    if (verb === "pause" && st.phase !== "paused") continue;
    if (verb === "resume" && st.phase === "paused") continue;
    if (verb === "abort" && !["aborted", "stopping"].includes(st.phase)) continue;
    return { state: st, confirmed: true };
  }
  return { state: st, confirmed: false };
}

/**
 * Apply an operator command to the project of `cfg` (through the running monitor's inbox, or on
 * state.json when none runs); `say` receives what the CLI prints. Shared by the CLI and
 * `autosentry web`. Throws {@link OperateError} when the monitor does not confirm or there is
 * nothing to operate on.
 */
export async function operateOn(
  cfg: LoadedConfig,
  verb: OperatorVerb,
  opts: { reason?: string | undefined; wait: boolean },
  detector: string | null,
  say: (text: string) => void,
): Promise<void> {
  const paths = monitorPaths(cfg.data);
  const lock = readLock(paths.lock);
  const who = accountName();
  if (lock && ownerAlive(lock)) {
    sendControl(paths.control, verb, opts.reason ?? null, detector);
    if (!opts.wait) {
      say(`${verb} sent to the monitor (pid ${lock.pid})\n`);
      return;
    }
    // A pause or abort waits for the child to stop, which may take its whole grace period.
    const timeoutMs = cfg.data.process.stop_grace_seconds * 1000 + ACK_MARGIN_MS;
    const ack = await waitForAck(paths.state, paths.control, verb, timeoutMs);
    if (!ack.confirmed) {
      const seen = ack.state
        ? `; it last reported phase ${ack.state.phase}, control offset ${ack.state.control_offset}`
        : "";
      throw new OperateError(
        1,
        `autosentry ${verb}: the monitor (pid ${lock.pid}) did not confirm within ${Math.round(timeoutMs / 1000)}s${seen}`,
      );
    }
    const what = {
      pause: "paused: the child is stopped until `autosentry resume`",
      resume: "resumed",
      abort: "aborted",
      approve: `approved: healing resumes for ${detector ?? "every detector"}`,
    }[verb];
    say(`${what} (monitor pid ${lock.pid})\n`);
    return;
  }
  // No monitor and no config: there is no job here to pause, resume or abort. Writing a durable
  // pause anyway made the first `run` after `init` wait silently for a `resume`.
  if (cfg.path === null) {
    throw new OperateError(
      2,
      `autosentry ${verb}: no config in ${cfg.root} (.autosentry/autosentry.yaml) and no monitor running: nothing to ${verb}; \`autosentry init\` creates the config`,
    );
  }
  // No monitor: change the durable state ourselves, holding the lock so no monitor starts meanwhile.
  let held: { release: () => void };
  try {
    held = acquireLock(paths.lock);
  } catch (err) {
    if (err instanceof LockHeldError)
      throw new OperateError(1, `autosentry ${verb}: ${err.message}; try again`);
    throw err;
  }
  try {
    const st = readState(paths.state) ?? emptyState();
    if (verb === "pause") {
      st.desired = "paused";
      st.paused_at = new Date().toISOString();
      st.paused_by = who;
      writeJsonAtomicSync(paths.state, st);
      say("paused: no monitor is running; the next `autosentry run` will wait for `autosentry resume`\n");
    } else if (verb === "approve") {
      st.paused_detectors = detector ? st.paused_detectors.filter((d) => d !== detector) : [];
      if (detector) delete st.attempts_by_detector[detector];
      else st.attempts_by_detector = {};
      writeJsonAtomicSync(paths.state, st);
      say(`approved: healing resumes for ${detector ?? "every detector"}\n`);
    } else if (verb === "resume") {
      st.desired = "running";
      st.paused_at = null;
      st.paused_by = null;
      if (st.phase === "paused") st.phase = "stopped";
      writeJsonAtomicSync(paths.state, st);
      say("resumed: no monitor is running; start one with `autosentry run`\n");
    } else {
      const pgid = st.child?.pgid ?? null;
      if (pgid !== null && pidAlive(pgid)) {
        const r = await killGroupGracefully(pgid, 10_000);
        say(
          `aborted: stopped the child left running by the previous monitor (process group ${pgid}${r.forced ? ", forced" : ""})\n`,
        );
      } else {
        say("nothing to abort: no monitor and no child are running\n");
      }
      st.phase = "aborted";
      st.stop_reason = `Operator abort from '${who}'${opts.reason ? `: ${opts.reason}` : ""}`;
      // The run is over: fixes still inside their verification window are discarded, unjudged.
      for (const pv of st.pending_verifications) {
        const seconds = Math.round((Date.now() - Date.parse(pv.applied_at)) / 100) / 10;
        try {
          updateAttempt(ledgerPath(cfg.root), pv.incident_id, pv.ledger_source, {
            status: "discarded",
            duration_seconds: seconds,
          });
        } catch {
          // a missing or unwritable ledger must not keep the abort from being recorded
        }
      }
      st.pending_verifications = [];
      st.child = null;
      st.child_running = false;
      writeJsonAtomicSync(paths.state, st);
    }
  } finally {
    held.release();
  }
}
