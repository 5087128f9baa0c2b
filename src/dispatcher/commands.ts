/**
 * @module
 * Thread replies as commands. Case-insensitive, surrounding space and a leading mention of the bot
 * (`<@U123>`) ignored:
 * `status` · `pause [reason]` · `resume` · `abort [reason]` · `approve [detector]` ·
 * `set max_restarts N` · `set env KEY=VALUE` · `note: text` (`comment: text` as in the Python tool).
 * Anything else is conversation and yields null; a known verb with bad arguments yields an error
 * that the dispatcher answers in the thread.
 */

export type ChatVerb = "status" | "pause" | "resume" | "abort" | "approve" | "set" | "note";

export interface ChatCommand {
  verb: ChatVerb;
  /** pause/abort: reason; approve: detector; note: the text. */
  text: string | null;
  /** set: [key, value] (`max_restarts`, "3") or (`env`, "KEY=VALUE"). */
  args: string[];
}

export type Parsed = { ok: true; command: ChatCommand } | { ok: false; error: string } | null;

export const COMMAND_HELP =
  "commands: status · pause [reason] · resume · abort [reason] · approve [detector] · set max_restarts N · set env KEY=VALUE · note: text";

/** The command in a reply's text, an error for a malformed one, or null for conversation. */
export function parseCommand(raw: string): Parsed {
  const text = raw
    .trim()
    .replace(/^<@[A-Za-z0-9]+>\s*/, "")
    .trim();
  const note = /^(note|comment)\s*:\s*([\s\S]*)$/i.exec(text);
  if (note) {
    const body = (note[2] ?? "").trim();
    return body
      ? { ok: true, command: { verb: "note", text: body, args: [] } }
      : { ok: false, error: "note: needs some text" };
  }
  const m = /^([A-Za-z_]+)(?:\s+([\s\S]*))?$/.exec(text);
  if (!m) return null;
  const verb = (m[1] ?? "").toLowerCase();
  const rest = (m[2] ?? "").trim();
  switch (verb) {
    case "status":
    case "resume":
      return rest ? null : { ok: true, command: { verb, text: null, args: [] } };
    case "pause":
    case "abort":
      return { ok: true, command: { verb, text: rest || null, args: [] } };
    case "approve":
      if (rest && !/^[\w.-]+$/.test(rest))
        return { ok: false, error: `approve: "${rest}" is not a detector name` };
      return { ok: true, command: { verb, text: rest || null, args: [] } };
    case "set": {
      const mr = /^max_restarts\s+(\d+)$/i.exec(rest);
      if (mr)
        return { ok: true, command: { verb, text: null, args: ["max_restarts", String(Number(mr[1]))] } };
      const me = /^env\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$/i.exec(rest);
      if (me) return { ok: true, command: { verb, text: null, args: ["env", `${me[1]}=${me[2] ?? ""}`] } };
      return {
        ok: false,
        error: `set: expected \`set max_restarts N\` or \`set env KEY=VALUE\` (got \`set ${rest}\`)`,
      };
    }
    default:
      return null;
  }
}
