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
import { pushCapped } from "./state.ts";

/** One operator command. */
interface OperatorCommand {
  /** Act at once instead of waiting in the decision queue (it must be safe mid-decision). */
  immediate?: boolean;
  run(op: OperatorInput, c: ControlCommand): Promise<void> | void;
}

/** The operator commands, by verb. */
const COMMANDS = {
  pause: { immediate: true, run: (op, c) => op.pause(c.user, c.reason ?? "operator pause") },
  resume: { run: (op, c) => op.resume(c.user) },
  approve: { run: (op, c) => op.approve(c.user, c.detector ?? null) },
  abort: { immediate: true, run: (op, c) => op.abort(c.user) },
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
    m.deps.journal.write("operator_command", { command: c.command, user: c.user, id: c.id });
    m.log.info(`operator ${c.user}: ${c.command}${c.reason ? ` (${c.reason})` : ""}`);
    await cmd.run(this, c);
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

  abort(by: string): Promise<void> {
    return this.m.finish(130, `Operator abort from '${by}'`, "aborted");
  }
}
