/**
 * @module
 * Where the dispatcher's inbound commands go: the monitor's control inbox (`control.jsonl`, the
 * same file `autosentry pause` appends to), as records the monitor reads by byte offset. Each
 * record's id is the chat message's (`slack:<channel>:<ts>`), and a record is appended only when
 * no record with that id is in the inbox yet, so a dispatcher that crashed after appending and
 * before moving its reply cursor does not send the same command twice.
 * Status answers are read from state.json; "is a monitor running" from its lock.
 */
import * as fs from "node:fs";
import { ownerAlive, readLock } from "../monitor/lock.ts";
import type { MonitorPaths } from "../monitor/paths.ts";
import { readState } from "../monitor/state.ts";
import { appendJsonl } from "../util/jsonl.ts";
import type { ChatCommand } from "./commands.ts";
import { statusText } from "./status-text.ts";

/** A control record written for a chat command (the CLI's ControlCommand plus where it came from). */
export interface ChatControlRecord {
  id: string;
  time: string;
  command: ChatCommand["verb"];
  user: string;
  reason: string | null;
  detector: string | null;
  /** set: [key, value]. */
  args: string[];
  /** note: the text. */
  text: string | null;
  source: "chat";
  thread_key: string;
  channel: string | null;
  message_id: string;
}

export interface ControlSink {
  /** Append unless a record with this id is already there; true when appended. */
  append(record: ChatControlRecord): boolean;
  journal(event: string, fields: Record<string, unknown>): void;
  monitorAlive(): boolean;
  statusText(): string;
}

/** Record ids already in the inbox (scanned when a command arrives; the inbox is small). */
function idsIn(file: string): Set<string> {
  const ids = new Set<string>();
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return ids;
  }
  for (const line of text.split("\n")) {
    const m = /"id":"((?:[^"\\]|\\.)*)"/.exec(line);
    if (m?.[1]) ids.add(m[1]);
  }
  return ids;
}

export class FileControlSink implements ControlSink {
  constructor(private readonly paths: MonitorPaths) {}

  append(record: ChatControlRecord): boolean {
    if (idsIn(this.paths.control).has(record.id)) return false;
    appendJsonl(this.paths.control, record, true);
    return true;
  }

  journal(event: string, fields: Record<string, unknown>): void {
    try {
      const st = readState(this.paths.state);
      appendJsonl(
        this.paths.journal,
        {
          schema_version: 1,
          time: new Date().toISOString(),
          run_id: st?.run_id ?? null,
          stage: null,
          event,
          ...fields,
        },
        true,
      );
    } catch {
      // The journal is a record, not a dependency: a failure to write it must not stop delivery.
    }
  }

  monitorAlive(): boolean {
    const lock = readLock(this.paths.lock);
    return lock !== null && ownerAlive(lock);
  }

  statusText(): string {
    let st = null;
    try {
      st = readState(this.paths.state);
    } catch {}
    return statusText(st, this.monitorAlive());
  }
}

/** Write the control record of a chat command. */
export function writeChatControl(
  sink: ControlSink,
  c: {
    id: string;
    command: ChatCommand;
    user: string;
    threadKey: string;
    channel: string | null;
    messageId: string;
  },
): boolean {
  const { verb, text, args } = c.command;
  return sink.append({
    id: c.id,
    time: new Date().toISOString(),
    command: verb,
    user: c.user,
    reason: verb === "pause" || verb === "abort" ? (text ?? `from the chat thread ${c.threadKey}`) : null,
    detector: verb === "approve" ? text : null,
    args,
    text: verb === "note" ? text : null,
    source: "chat",
    thread_key: c.threadKey,
    channel: c.channel,
    message_id: c.messageId,
  });
}
