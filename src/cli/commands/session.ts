import { isValidIncidentId, resolveIncidentDir } from "../../incidents/paths.ts";
import { appendSessionAction, type SessionSource } from "../../session/queue.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";
import { actionFromOptions } from "./healer.ts";

/** `session apply`'s options. */
interface SessionApplyOptions extends ConfigFlag {
  incident: string;
  action: string;
  set: Record<string, string>;
  command: string[];
  timeout?: number | undefined;
  rule?: string | undefined;
  source: string;
  notify: boolean;
}

/** What `autosentry session apply` does (its options are declared in src/cli/tree/session.ts). */
export function sessionApplyCommand(opts: SessionApplyOptions): void {
  const what = "autosentry session apply";
  const action = actionFromOptions(
    what,
    opts.action,
    { set: opts.set, command: opts.command, timeout: opts.timeout, notify: opts.notify },
    false,
  )!;
  if (!isValidIncidentId(opts.incident)) {
    throw new CliExit(EXIT.usage, `${what}: not an incident id: ${JSON.stringify(opts.incident)}`);
  }
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  const c = cfg.data;
  if (resolveIncidentDir(c.incidents_dir, opts.incident) === null) {
    throw new CliExit(EXIT.failure, `${what}: no incident ${opts.incident} in ${c.incidents_dir}`);
  }
  const line = appendSessionAction(c.dispatch.action_queue_path, {
    incident_id: opts.incident,
    rule: opts.rule ?? null,
    source: opts.source as SessionSource,
    action,
  });
  process.stdout.write(
    `queued ${action.kind} for incident ${opts.incident} (${line.id}) in ${c.dispatch.action_queue_path}\n`,
  );
  if (c.dispatch.mode !== "session") {
    process.stderr.write(
      `${what}: warning: dispatch.mode is ${c.dispatch.mode}; the monitor applies queued actions only under dispatch.mode: session\n`,
    );
  }
}
