/**
 * @module
 * The session action queue (`dispatch.action_queue_path`, JSON Lines): under `dispatch.mode:
 * session` a Claude Code session decides what to do about an incident and queues it with
 * `autosentry session apply`; the monitor drains the queue every tick and applies each action once.
 *
 * Line (the Python tool's shape, plus `time`):
 * `{"id": "<20-digit epoch ns>-<8 hex>", "incident_id", "rule": name|null, "source": "rule|claude|manual",
 *   "action": {"kind", "set", "command", "notify", "timeout_seconds"?}, "time": ISO}`
 *
 * The cursor (`dispatch.action_cursor_path`) holds the id of the last line dealt with, as plain
 * text. Draining skips lines whose id sorts at or before the cursor, reports invalid lines (and
 * moves the cursor past them so they are reported once), and advances the cursor only when the
 * caller commits — after it has applied the actions, so a crash in between re-applies rather than
 * loses them. A torn last line (a writer mid-append) is left for the next drain.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import type { Action, ActionKind } from "../core/types.ts";
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { appendJsonl } from "../util/jsonl.ts";

export type SessionSource = "rule" | "claude" | "manual";

export interface SessionAction {
  id: string;
  incident_id: string;
  rule: string | null;
  source: SessionSource;
  action: Action;
  /** ISO time it was queued (absent in lines of the Python tool). */
  time?: string;
}

/** A line that could not be used. */
export interface InvalidSessionLine {
  /** 1-based line number in the queue file. */
  line: number;
  /** Its id when it had one. */
  id: string | null;
  reason: string;
}

export interface SessionBatch {
  /** New valid actions, in file order. */
  actions: SessionAction[];
  /** New invalid lines (each reported once: committing moves the cursor past them). */
  invalid: InvalidSessionLine[];
  /** The cursor before this batch. */
  cursor: string | null;
  /** Write the cursor past everything in this batch (call after applying the actions). */
  commit(): void;
}

const KINDS: readonly ActionKind[] = ["restart", "restart_with_env", "pause", "abort", "custom_command"];
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ID_RE = /^\d{20}-[0-9a-f]{8}$/;

let lastNs = 0n;

/** A new queue id: 20 digits of epoch nanoseconds (increasing within this process) and 8 hex digits. */
export function newActionId(nowMs: number = Date.now()): string {
  const sub = process.hrtime.bigint() % 1_000_000n;
  let ns = BigInt(Math.floor(nowMs)) * 1_000_000n + sub;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return `${ns.toString().padStart(20, "0")}-${crypto.randomBytes(4).toString("hex")}`;
}

/** Why `a` is not a usable action (null when it is), in the words `session apply` prints. */
export function actionProblem(a: Action): string | null {
  if (!KINDS.includes(a.kind))
    return `unknown action kind '${String(a.kind)}' (expected ${KINDS.join(", ")})`;
  for (const k of Object.keys(a.set)) if (!ENV_NAME_RE.test(k)) return `not a variable name: ${k}`;
  if (a.kind === "restart_with_env" && Object.keys(a.set).length === 0)
    return "restart_with_env needs at least one variable to set";
  if (a.kind !== "restart_with_env" && Object.keys(a.set).length > 0)
    return `variables to set are only used by restart_with_env, not ${a.kind}`;
  if (a.kind === "custom_command" && a.command.length === 0) return "custom_command needs a command";
  if (a.kind !== "custom_command" && a.command.length > 0)
    return `a command is only used by custom_command, not ${a.kind}`;
  if (a.timeout_seconds !== undefined && !(a.timeout_seconds > 0))
    return "timeout_seconds must be a positive number";
  return null;
}

/** Append one action to the queue (one write of a whole line). Returns the line written. */
export function appendSessionAction(
  queuePath: string,
  entry: { incident_id: string; rule?: string | null; source?: SessionSource; action: Action },
): SessionAction {
  const problem = actionProblem(entry.action);
  if (problem) throw new Error(`Cannot queue the action: ${problem}`);
  const a = entry.action;
  const line: SessionAction = {
    id: newActionId(),
    incident_id: entry.incident_id,
    rule: entry.rule ?? null,
    source: entry.source ?? "manual",
    action: {
      kind: a.kind,
      set: { ...a.set },
      command: [...a.command],
      notify: a.notify,
      ...(a.timeout_seconds !== undefined ? { timeout_seconds: a.timeout_seconds } : {}),
    },
    time: new Date().toISOString(),
  };
  appendJsonl(queuePath, line, true);
  return line;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Validate one parsed line; a string says why it is unusable. */
export function parseSessionLine(v: unknown): SessionAction | string {
  if (!isObj(v)) return "not a JSON object";
  if (typeof v.id !== "string" || v.id === "") return "no id";
  if (typeof v.incident_id !== "string" || v.incident_id === "") return "no incident_id";
  if (!isObj(v.action)) return "no action object";
  const a = v.action;
  if (typeof a.kind !== "string") return "action has no kind";
  const set: Record<string, string> = {};
  if (a.set !== undefined && a.set !== null) {
    if (!isObj(a.set)) return "action.set is not an object";
    for (const [k, val] of Object.entries(a.set)) {
      if (typeof val !== "string" && typeof val !== "number") return `action.set.${k} is not a string`;
      set[k] = String(val);
    }
  }
  let command: string[] = [];
  if (a.command !== undefined && a.command !== null) {
    if (!Array.isArray(a.command) || !a.command.every((x) => typeof x === "string"))
      return "action.command is not a list of strings";
    command = a.command as string[];
  }
  if (a.notify !== undefined && typeof a.notify !== "boolean") return "action.notify is not a boolean";
  if (a.timeout_seconds !== undefined && typeof a.timeout_seconds !== "number")
    return "action.timeout_seconds is not a number";
  const action: Action = {
    kind: a.kind as ActionKind,
    set,
    command,
    notify: a.notify !== false,
    ...(typeof a.timeout_seconds === "number" ? { timeout_seconds: a.timeout_seconds } : {}),
  };
  const problem = actionProblem(action);
  if (problem) return problem;
  const source: SessionSource =
    v.source === "rule" || v.source === "claude" || v.source === "manual" ? v.source : "manual";
  return {
    id: v.id,
    incident_id: v.incident_id,
    rule: typeof v.rule === "string" ? v.rule : null,
    source,
    action,
    ...(typeof v.time === "string" ? { time: v.time } : {}),
  };
}

/** The cursor's id, or null when there is none. */
export function readCursor(file: string): string | null {
  try {
    const t = fs.readFileSync(file, "utf8").trim();
    return t === "" ? null : t;
  } catch {
    return null;
  }
}

/** Write a cursor file atomically. */
export function writeCursor(file: string, id: string): void {
  writeFileAtomicSync(file, `${id}\n`);
}

/**
 * Read the queue from the cursor on. Every call reads the whole file (a queue is a handful of lines
 * per incident). A line that is not even JSON has no id for the cursor to move past until a later
 * valid line is committed; pass the same `seen` set on every call (the monitor keeps one) and such a
 * line is reported once instead of on every tick.
 */
export function drainSessionActions(queuePath: string, cursorPath: string, seen?: Set<string>): SessionBatch {
  const cursor = readCursor(cursorPath);
  let text = "";
  try {
    text = fs.readFileSync(queuePath, "utf8");
  } catch {}
  const actions: SessionAction[] = [];
  const invalid: InvalidSessionLine[] = [];
  let next = cursor;
  const lines = text.split("\n");
  // Without a final newline the last line may be half written: leave it for the next drain.
  if (!text.endsWith("\n")) lines.pop();
  const parsed = lines.map((raw, i) => {
    if (raw.trim() === "") return null;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      return { line: i + 1, id: null, value: "not valid JSON" as const };
    }
    const id = isObj(v) && typeof v.id === "string" && v.id !== "" ? v.id : null;
    return { line: i + 1, id, value: parseSessionLine(v) };
  });
  // Lines up to the last one the cursor has passed are done, unparseable ones included.
  let passed = -1;
  if (cursor !== null) {
    parsed.forEach((p, i) => {
      if (p?.id != null && p.id <= cursor) passed = i;
    });
  }
  parsed.forEach((p, i) => {
    if (p === null || i <= passed) return;
    if (p.id !== null && cursor !== null && p.id <= cursor) return;
    if (typeof p.value === "string") {
      if (p.id === null && seen) {
        const key = `${p.line}\0${lines[i]}`;
        if (seen.has(key)) return;
        seen.add(key);
      }
      invalid.push({ line: p.line, id: p.id, reason: p.value });
      if (p.id !== null && (next === null || p.id > next)) next = p.id;
      return;
    }
    actions.push(p.value);
    if (next === null || p.value.id > next) next = p.value.id;
  });
  return {
    actions,
    invalid,
    cursor,
    commit() {
      if (next !== null && next !== cursor) writeCursor(cursorPath, next);
    },
  };
}

/** True when `id` has the shape {@link newActionId} makes (ids of other writers are accepted too). */
export function isActionId(id: string): boolean {
  return ID_RE.test(id);
}
