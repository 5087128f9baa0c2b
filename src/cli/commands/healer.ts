/**
 * @module
 * `autosentry healer respond`: answer the recovery request of `healing.claude.mode: interactive`.
 *
 * ```
 * autosentry healer respond --action KIND [--set NAME=VALUE]... [--command ARG]... [--timeout S]
 *                           [--diagnosis TEXT] [--incident-id ID] [-c PATH]
 * ```
 * Writes the response file (`healing.claude.response_path`) atomically: the incident id, the
 * diagnosis, then the ACTION block (last, so nothing in the diagnosis can override it). KIND is
 * restart (default), restart_with_env (needs --set), pause, abort, custom_command (needs --command,
 * one word per --command: `--command python --command fix.py`) or none. Without --incident-id the
 * waiting request's incident is answered. Exit 0 when written; 2 for a bad action or option; 1 when
 * --incident-id names another incident than the one waiting.
 */
import * as fs from "node:fs";
import type { Action, ActionKind } from "../../core/types.ts";
import { ACTION_KINDS } from "../../healers/agent/action-block.ts";
import { formatResponse, requestIncidentId, writeResponse } from "../../healers/agent/interactive.ts";
import { isValidIncidentId } from "../../incidents/paths.ts";
import { actionProblem } from "../../session/queue.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/**
 * Build the action from the options; throws CliExit(2) with the reason when it is not valid.
 * `none` gives null (only where the caller allows it).
 */
export function actionFromOptions(
  what: string,
  kind: string,
  opts: { set: Record<string, string>; command: string[]; timeout?: number | undefined; notify?: boolean },
  allowNone: boolean,
): Action | null {
  const kinds = allowNone ? [...ACTION_KINDS, "none"] : [...ACTION_KINDS];
  if (!kinds.includes(kind)) {
    throw new CliExit(EXIT.usage, `${what}: unknown action '${kind}' (expected one of ${kinds.join(", ")})`);
  }
  if (kind === "none") {
    if (Object.keys(opts.set).length > 0 || opts.command.length > 0) {
      throw new CliExit(EXIT.usage, `${what}: --set and --command do not go with --action none`);
    }
    return null;
  }
  const nSet = Object.keys(opts.set).length;
  const problem =
    kind === "restart_with_env" && nSet === 0
      ? "restart_with_env needs at least one --set NAME=VALUE"
      : kind !== "restart_with_env" && nSet > 0
        ? "--set is only for restart_with_env"
        : kind === "custom_command" && opts.command.length === 0
          ? "custom_command needs --command (one argv word each)"
          : kind !== "custom_command" && opts.command.length > 0
            ? "--command is only for custom_command"
            : kind !== "custom_command" && opts.timeout !== undefined
              ? "--timeout is only for custom_command"
              : null;
  if (problem) throw new CliExit(EXIT.usage, `${what}: ${problem}`);
  const action: Action = {
    kind: kind as ActionKind,
    set: opts.set,
    command: opts.command,
    notify: opts.notify ?? true,
    ...(opts.timeout !== undefined ? { timeout_seconds: opts.timeout } : {}),
  };
  const left = actionProblem(action);
  if (left) throw new CliExit(EXIT.usage, `${what}: ${left}`);
  return action;
}

/** `healer respond`'s options. */
interface HealerRespondOptions extends ConfigFlag {
  action: string;
  set: Record<string, string>;
  command: string[];
  timeout?: number | undefined;
  diagnosis?: string | undefined;
  incidentId?: string | undefined;
}

/** What `autosentry healer respond` does (its options are declared in src/cli/tree/healer.ts). */
export function healerRespondCommand(opts: HealerRespondOptions): void {
  const what = "autosentry healer respond";
  const action = actionFromOptions(
    what,
    opts.action,
    { set: opts.set, command: opts.command, timeout: opts.timeout },
    true,
  );
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  const c = cfg.data.healing.claude;
  let waiting: string | null = null;
  let requestExists = false;
  try {
    waiting = requestIncidentId(fs.readFileSync(c.request_path, "utf8"));
    requestExists = true;
  } catch {}
  if (opts.incidentId !== undefined && !isValidIncidentId(opts.incidentId)) {
    throw new CliExit(EXIT.usage, `${what}: not an incident id: ${JSON.stringify(opts.incidentId)}`);
  }
  if (opts.incidentId !== undefined && waiting !== null && opts.incidentId !== waiting) {
    throw new CliExit(
      EXIT.failure,
      `${what}: the waiting request is for incident ${waiting}, not ${opts.incidentId}; nothing written`,
    );
  }
  // A response is read only for a request made before it, so one written while nothing waits
  // would answer nothing: refuse instead of leaving a file that looks like an answer.
  if (!requestExists) {
    throw new CliExit(
      EXIT.failure,
      `${what}: no recovery request is waiting (${c.request_path}); nothing written`,
    );
  }
  const incidentId = opts.incidentId ?? waiting;
  writeResponse(
    c.response_path,
    formatResponse(action, {
      incidentId,
      ...(opts.diagnosis !== undefined ? { diagnosis: opts.diagnosis } : {}),
    }),
  );
  process.stdout.write(
    `response written to ${c.response_path}: ACTION ${action?.kind ?? "none"}${incidentId ? ` for incident ${incidentId}` : ""}\n`,
  );
}
