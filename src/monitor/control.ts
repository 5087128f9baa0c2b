/**
 * @module
 * The operator inbox: `autosentry pause|resume|abort|approve` append one JSON line to
 * `.autosentry/control.jsonl`; the running monitor reads what is new each tick (by byte offset,
 * which state.json records, so nothing is applied twice across monitor restarts).
 */
import * as fs from "node:fs";
import { accountName } from "../util/account.ts";
import { appendJsonl } from "../util/jsonl.ts";

/**
 * The verbs the monitor understands. A new operator command: add its verb here and its handler to
 * the command table in operator.ts (tsc insists on both).
 */
export const CONTROL_VERBS = [
  "pause",
  "resume",
  "abort",
  "approve",
  "status",
  "set",
  "note",
  "reset",
] as const;

export type ControlVerb = (typeof CONTROL_VERBS)[number];

export interface ControlCommand {
  id: string;
  time: string;
  command: ControlVerb;
  user: string;
  reason: string | null;
  /** approve: the detector whose healing resumes (null = all). */
  detector?: string | null;
  /** set: `["max_restarts", "3"]` or `["env", "KEY=VALUE"]` (chat threads, src/dispatcher). */
  args?: string[];
  /** note: the text. */
  text?: string | null;
  /** Where it came from: absent for the CLI, `chat` for a Slack/Discord thread. */
  source?: string;
  thread_key?: string;
  /** reset: also clear the restart history (`autosentry reset --full --force`). */
  full?: boolean;
}

/** Append a command for the monitor to pick up. */
export function sendControl(
  file: string,
  command: ControlVerb,
  reason: string | null = null,
  detector: string | null = null,
): ControlCommand {
  const cmd: ControlCommand = {
    id: `${Date.now()}-${Math.random().toString(16).slice(2, 10)}`,
    time: new Date().toISOString(),
    command,
    user: accountName(),
    reason,
    detector,
  };
  appendJsonl(file, cmd, true);
  return cmd;
}

/** Read complete lines after `offset`. Returns the commands and the offset after the last complete line. */
export function readControl(file: string, offset: number): { commands: ControlCommand[]; offset: number } {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return { commands: [], offset: 0 };
  }
  if (size < offset) offset = 0; // truncated or replaced: start over
  if (size === offset) return { commands: [], offset };
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(size - offset);
    fs.readSync(fd, buf, 0, buf.length, offset);
    const text = buf.toString("utf8");
    const end = text.lastIndexOf("\n");
    if (end === -1) return { commands: [], offset };
    const commands: ControlCommand[] = [];
    for (const line of text.slice(0, end).split("\n")) {
      if (!line.trim()) continue;
      try {
        const v = JSON.parse(line) as ControlCommand;
        if ((CONTROL_VERBS as readonly string[]).includes(v.command)) commands.push(v);
      } catch {
        // a malformed line is skipped; the offset still moves past it
      }
    }
    return { commands, offset: offset + Buffer.byteLength(text.slice(0, end + 1)) };
  } finally {
    fs.closeSync(fd);
  }
}
