/**
 * @module
 * The action contract between autosentry and an agent: the reply ends with an ACTION block.
 *
 * ```
 * ACTION: restart_with_env
 * SET: BATCH_SIZE=half
 * SET: LR=0.0005
 * ```
 * ```
 * ACTION: custom_command
 * COMMAND: ["python", "scripts/repair_index.py", "--fast"]
 * TIMEOUT: 120
 * ```
 * Grammar (a stricter cousin of the Python tool's, fixing its flaws — inventory §6 item 6):
 * - `ACTION: <kind>` on a line of its own, leading whitespace allowed (so an indented or quoted
 *   example still reads the same); the LAST such line wins, so examples the agent quotes earlier in
 *   its reasoning never count. Kinds: restart, restart_with_env, pause, abort, custom_command, and
 *   `none` ("no action": the restart policy decides).
 * - `SET: KEY=VALUE`, `COMMAND: …` and `TIMEOUT: <seconds>` are read only from the lines after that
 *   final ACTION line. COMMAND is a JSON array of strings or a shell-like line split into words
 *   (no shell runs it); exactly one COMMAND line.
 * - An unknown kind, restart_with_env without SET, or custom_command without (or with several)
 *   COMMAND lines gives no action and a problem; the caller records the reply as having no valid
 *   action and falls back to the restart policy. Nothing is guessed: a missing block is not a restart.
 */
import { splitShellWords } from "../../config/shell-words.ts";
import type { Action, ActionKind } from "../../core/types.ts";

export const ACTION_KINDS: readonly ActionKind[] = [
  "restart",
  "restart_with_env",
  "pause",
  "abort",
  "custom_command",
];

export interface ParsedAction {
  /** The action, or null: no valid action (see `problems`) or an explicit `ACTION: none`. */
  action: Action | null;
  /** True when the reply said `ACTION: none`. */
  none: boolean;
  /** Why the block is invalid, or what in it was ignored. Empty for a clean block. */
  problems: string[];
}

const ACTION_RE = /^[ \t>]*(?:[-*] +)?(?:\*\*)?ACTION:(?:\*\*)?[ \t]*`?([A-Za-z_-]*)`?[ \t]*\.?[ \t]*$/;
const DIRECTIVE_RE = /^[ \t>]*(?:[-*] +)?(?:\*\*)?(SET|COMMAND|TIMEOUT):(?:\*\*)?[ \t]*(.*?)[ \t]*$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) return v.slice(1, -1);
  return v;
}

function parseCommand(text: string): string[] | string {
  const t = text.replace(/^`+|`+$/g, "").trim();
  if (t.startsWith("[")) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) return v as string[];
    } catch {}
    return "COMMAND is not a JSON array of strings";
  }
  const words = splitShellWords(t);
  return words.length > 0 ? words : "COMMAND is empty";
}

/** Parse an agent's reply into an action (see the module comment for the grammar). */
export function parseActionBlock(reply: string): ParsedAction {
  const lines = reply.split(/\r?\n/);
  let at = -1;
  let kindText = "";
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = ACTION_RE.exec(lines[i]!);
    if (m) {
      at = i;
      kindText = m[1]!.toLowerCase().replace(/-/g, "_");
      break;
    }
  }
  if (at < 0) return { action: null, none: false, problems: ["no ACTION line in the reply"] };
  const problems: string[] = [];
  const set: Record<string, string> = {};
  const commands: string[] = [];
  let timeout: number | undefined;
  for (const line of lines.slice(at + 1)) {
    const m = DIRECTIVE_RE.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === "SET") {
      const eq = value.indexOf("=");
      const name = eq > 0 ? value.slice(0, eq).trim() : "";
      if (!ENV_NAME_RE.test(name)) {
        problems.push(`SET line is not NAME=VALUE: ${value}`);
        continue;
      }
      set[name] = unquote(value.slice(eq + 1).trim());
    } else if (key === "COMMAND") {
      commands.push(value);
    } else {
      const n = Number(value.replace(/s$/, ""));
      if (Number.isFinite(n) && n > 0) timeout = n;
      else problems.push(`TIMEOUT is not a positive number of seconds: ${value}`);
    }
  }
  if (kindText === "none") {
    return { action: null, none: true, problems };
  }
  if (!(ACTION_KINDS as readonly string[]).includes(kindText)) {
    problems.unshift(
      kindText === ""
        ? "ACTION line names no kind"
        : `unknown action kind '${kindText}' (expected one of ${[...ACTION_KINDS, "none"].join(", ")})`,
    );
    return { action: null, none: false, problems };
  }
  const kind = kindText as ActionKind;
  const action: Action = { kind, set: {}, command: [], notify: true };
  if (kind === "restart_with_env") {
    if (Object.keys(set).length === 0) {
      return {
        action: null,
        none: false,
        problems: ["restart_with_env needs at least one SET: NAME=VALUE line", ...problems],
      };
    }
    action.set = set;
  } else if (Object.keys(set).length > 0) {
    problems.push(`SET lines are ignored for ${kind}`);
  }
  if (kind === "custom_command") {
    if (commands.length !== 1) {
      const why =
        commands.length === 0
          ? "custom_command needs a COMMAND line"
          : "custom_command takes exactly one COMMAND line";
      return { action: null, none: false, problems: [why, ...problems] };
    }
    const argv = parseCommand(commands[0]!);
    if (typeof argv === "string") return { action: null, none: false, problems: [argv, ...problems] };
    action.command = argv;
    if (timeout !== undefined) action.timeout_seconds = timeout;
  } else {
    if (commands.length > 0) problems.push(`COMMAND lines are ignored for ${kind}`);
    if (timeout !== undefined) problems.push(`TIMEOUT is ignored for ${kind}`);
  }
  return { action, none: false, problems };
}

/** The block for an action (null → `ACTION: none`), parseable by {@link parseActionBlock}. */
export function formatActionBlock(action: Action | null): string {
  if (action === null) return "ACTION: none\n";
  const lines = [`ACTION: ${action.kind}`];
  if (action.kind === "restart_with_env") {
    for (const [k, v] of Object.entries(action.set)) lines.push(`SET: ${k}=${v}`);
  }
  if (action.kind === "custom_command") {
    lines.push(`COMMAND: ${JSON.stringify(action.command)}`);
    if (action.timeout_seconds !== undefined) lines.push(`TIMEOUT: ${action.timeout_seconds}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The contract as the prompt states it (the `{{action_contract}}` placeholder). */
export const ACTION_CONTRACT = `End your reply with exactly one ACTION block, each line on its own, nothing after it:

    ACTION: <restart | restart_with_env | pause | abort | custom_command | none>
    SET: NAME=VALUE          (restart_with_env only; one line per variable; VALUE may be half or double)
    COMMAND: ["argv0", "arg1"]   (custom_command only; a JSON array, run without a shell)
    TIMEOUT: 300             (custom_command only, optional, seconds)

- restart: start the job again as it is (after your file edits, if any).
- restart_with_env: restart with these environment variables changed.
- pause: stop the job and wait for a human.
- abort: give up; a human must look at it.
- custom_command: run one command (e.g. to repair data); then the job is restarted unless the
  command's own output ends with an ACTION block.
- none: you have no recommendation; autosentry's restart policy decides.
Only the last ACTION line counts. If you are not confident, answer ACTION: abort and say why.`;
