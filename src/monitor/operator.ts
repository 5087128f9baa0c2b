/**
 * @module
 * Operator input: the control inbox (`.autosentry/control.jsonl`, written by `autosentry pause |
 * resume | abort | approve`, read each tick from the offset state.json records) and what each
 * command does. `pause` and `abort` act at once, even while a decision (an agent at work) holds the
 * decision queue; a decision that finishes later sees the pause and launches nothing. The others
 * wait their turn in the queue.
 *
 * A new operator command is one entry in {@link COMMANDS} plus its verb in control.ts
 * (`CONTROL_VERBS`, and any argument it carries in `ControlCommand`); the journal line and the log
 * line for it are written here for every command.
 */

import { errMsg, type MonitorContext } from "./context.ts";
import { type ControlCommand, type ControlVerb, readControl } from "./control.ts";
import { appendResetLog, applyReset } from "./reset.ts";
import { pushCapped } from "./state.ts";

/** One operator command. */
interface OperatorCommand {
  /** Act at once instead of waiting in the decision queue (it must be safe mid-decision). */
  immediate?: boolean;
  /** Runs after the command's journal and log lines; `m` is the monitor's shared state. */
  run(op: OperatorInput, c: ControlCommand, m: MonitorContext): Promise<void> | void;
}

/** The operator commands, by verb. */
const COMMANDS = {
  pause: { immediate: true, run: (op, c) => op.pause(c.user, c.reason ?? "operator pause") },
  resume: { run: (op, c) => op.resume(c.user) },
  approve: { run: (op, c) => op.approve(c.user, c.detector ?? null) },
  abort: { immediate: true, run: (op, c) => op.abort(c.user, c.reason) },
  // From chat threads (src/dispatcher): the dispatcher answers status itself from state.json; the
  // monitor's part is the journal line every command gets (with who sent it).
  status: { immediate: true, run: () => {} },
  set: { run: (op, c) => op.set(c.user, c.args ?? []) },
  note: { immediate: true, run: (op, c) => op.note(c.user, c.text ?? c.reason ?? "") },
  reset: { run: (op, c) => op.reset(c) },
} satisfies Record<ControlVerb, OperatorCommand>;

export class OperatorInput {
  constructor(private readonly m: MonitorContext) {}

  /** Each tick: read new commands from the control inbox and apply them. */
  poll(): void {
    const m = this.m;
    const s = m.s;
    let res: { commands: ControlCommand[]; offset: number };
    try {
      res = readControl(m.deps.controlFile, s.control_offset);
    } catch (err) {
      m.log.error(`Cannot read ${m.deps.controlFile}: ${errMsg(err)}`);
      return;
    }
    if (res.offset === s.control_offset) return;
    s.control_offset = res.offset;
    m.deps.state.changed();
    for (const c of res.commands) {
      const cmd: OperatorCommand | undefined = COMMANDS[c.command];
      if (!cmd) continue;
      if (cmd.immediate) void this.apply(cmd, c);
      else void m.serial(() => this.apply(cmd, c));
    }
  }

  private async apply(cmd: OperatorCommand, c: ControlCommand): Promise<void> {
    const m = this.m;
    m.deps.journal.write("operator_command", {
      command: c.command,
      user: c.user,
      id: c.id,
      ...(c.args?.length ? { args: c.args } : {}),
      ...(c.source ? { source: c.source, thread_key: c.thread_key ?? null } : {}),
    });
    m.log.info(`operator ${c.user}: ${c.command}${c.reason ? ` (${c.reason})` : ""}`);
    await cmd.run(this, c, m);
  }

  /** Durable pause: the child stays stopped (across monitor restarts) until resume. */
  async pause(by: string, why: string): Promise<void> {
    const m = this.m;
    const s = m.s;
    s.desired = "paused";
    s.paused_at = new Date().toISOString();
    s.paused_by = by;
    m.parts.launching.cancelScheduled();
    s.next_restart_at = null;
    await m.parts.launching.stopChild("pause");
    m.setPhase("paused");
    m.deps.journal.write("paused", { by, why });
    m.log.info(`paused by ${by}: the child stays stopped until \`autosentry resume\``);
    m.notify({
      kind: "anomaly",
      title: "supervised work paused",
      body: `${why} (by ${by})`,
      incident_id: null,
    });
    await m.deps.state.flush(true);
  }

  async resume(by: string): Promise<void> {
    const m = this.m;
    const s = m.s;
    if (s.desired !== "paused" && s.phase !== "paused") {
      m.log.info("resume: not paused; nothing to do");
      return;
    }
    s.desired = "running";
    s.paused_at = null;
    s.paused_by = null;
    m.deps.journal.write("resumed", { by });
    m.notify({ kind: "recovery", title: "supervised work resumed", body: `by ${by}`, incident_id: null });
    if (!m.childAlive) await m.parts.launching.launch(`resumed by ${by}`);
  }

  /**
   * Resume healing that was paused for a detector (hourly budget used up, or a regression with
   * `regression_action: escalate`). `detector` null = every detector.
   */
  approve(by: string, detector: string | null): void {
    const m = this.m;
    const s = m.s;
    const which = detector
      ? [detector]
      : [...new Set([...s.paused_detectors, ...Object.keys(s.attempts_by_detector)])];
    s.paused_detectors = s.paused_detectors.filter((d) => !which.includes(d));
    for (const d of which) delete s.attempts_by_detector[d];
    const approvals = Array.isArray(s.user.approvals) ? (s.user.approvals as unknown[]) : [];
    s.user.approvals = approvals;
    pushCapped(approvals, { time: new Date().toISOString(), by, detector });
    m.deps.journal.write("approved", { by, detector });
    m.log.info(`healing approved by ${by} for ${detector ?? "every detector"}`);
    m.deps.state.changed();
  }

  /**
   * `set max_restarts N` applies at once (the restart policy reads it) and `set env KEY=VALUE`
   * joins the env overlay, so the next launch runs with it; both are recorded in
   * `state.user.operator_overrides` and last for this run (a fresh run starts from the config).
   */
  set(by: string, args: string[]): void {
    const m = this.m;
    const s = m.s;
    const [key, value] = args;
    const overrides = (s.user.operator_overrides ?? {}) as {
      max_restarts?: number;
      env?: Record<string, string>;
    };
    s.user.operator_overrides = overrides;
    if (key === "max_restarts" && value !== undefined && /^\d+$/.test(value)) {
      overrides.max_restarts = Number(value);
      s.max_restarts = Number(value);
      m.log.info(`max_restarts set to ${value} by ${by}`);
    } else if (key === "env" && value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(value)) {
      const eq = value.indexOf("=");
      const name = value.slice(0, eq);
      const v = value.slice(eq + 1);
      overrides.env = { ...overrides.env, [name]: v };
      s.env_overlay[name] = v;
      m.log.info(`env override ${name} set by ${by}: applies at the next launch`);
    } else {
      m.log.warn(`set from ${by}: not understood (${args.join(" ")}); nothing changed`);
      return;
    }
    m.deps.journal.write("operator_set", { by, key, value });
    m.deps.state.changed();
  }

  /** A note from an operator: into the journal and, when there is one, the current incident (notes.md). */
  note(by: string, text: string): void {
    const m = this.m;
    const safe = m.red(text);
    const incident = m.s.last_incident_id;
    m.deps.journal.write("operator_note", { by, text: safe, incident_id: incident });
    m.log.info(`note from ${by}: ${safe}`);
    if (incident) {
      try {
        void m.deps.store
          .appendNote?.(incident, `${new Date().toISOString()} ${by}: ${safe}`)
          ?.catch((err) => m.log.error(`Cannot add the note to incident ${incident}: ${errMsg(err)}`));
      } catch (err) {
        m.log.error(`Cannot add the note to incident ${incident}: ${errMsg(err)}`);
      }
    }
  }

  /**
   * `autosentry reset`: counters, pauses and budgets back to a fresh start (reset.ts). Queued
   * behind a decision in progress, so it never lands half-way through one. A lifted pause
   * relaunches the child, as resume does.
   */
  async reset(c: ControlCommand): Promise<void> {
    const m = this.m;
    const wasPaused = m.s.phase === "paused";
    const rec = applyReset(m.s, {
      id: c.id,
      reason: c.reason ?? "manual reset",
      by: c.user,
      full: c.full === true,
    });
    appendResetLog(m.deps.config.monitor.log_dir, rec);
    m.deps.journal.write("reset", {
      by: c.user,
      reason: rec.reason,
      prior_restarts: rec.prior_restarts,
      full: rec.cleared_history,
    });
    m.log.info(
      `reset by ${c.user}: restarts ${rec.prior_restarts} → 0${rec.unpaused ? "; pause lifted" : ""}`,
    );
    m.deps.state.changed();
    await m.deps.state.flush(true);
    if (wasPaused && !m.childAlive) await m.parts.launching.launch(`reset by ${c.user}`);
  }

  abort(by: string, reason: string | null = null): Promise<void> {
    return this.m.finish(130, `Operator abort from '${by}'${reason ? `: ${reason}` : ""}`, "aborted");
  }
}
