/**
 * @module
 * `healing.claude.mode: interactive`: a file handshake with a responder outside autosentry (a person,
 * or an agent session running the `/autosentry` skill).
 *
 * 1. The healer notes the response file's identity (inode and nanosecond mtime) FIRST, so a response
 *    written at any moment after that counts, and one left over from an earlier incident does not.
 * 2. It writes the request file atomically: YAML frontmatter (the real incident id — the folder
 *    already exists —, detector, subagent hint, timeout) and the recovery prompt.
 * 3. It waits, without blocking the event loop and abortably, for a response file newer than step 1
 *    (`autosentry healer respond` writes it atomically). A response that names another incident is
 *    ignored and the wait goes on.
 * 4. The request file is removed when the wait ends, whatever the result: a request file on disk
 *    means "autosentry is waiting now".
 *
 * Response format (written by {@link formatResponse}; the ACTION block is last so that nothing in
 * the diagnosis can override it — only the last ACTION line counts):
 * ```
 * <!-- incident_id: 20261122-030405-error-traceback -->
 *
 * diagnosis text…
 *
 * ACTION: restart_with_env
 * SET: BATCH_SIZE=half
 * ```
 * Files of the Python tool (ACTION first, then the diagnosis) parse the same way.
 */
import * as fs from "node:fs";
import type { Action } from "../../core/types.ts";
import { writeFileAtomic, writeFileAtomicSync } from "../../util/atomic-write.ts";
import { formatActionBlock } from "./action-block.ts";

export interface RequestInfo {
  incidentId: string;
  detector: string;
  subagent: { type: string; description: string };
  timeoutSeconds: number;
}

/** A file's identity: it changes when the file is replaced (new inode) or rewritten (mtime). */
export interface FileMark {
  ino: bigint;
  mtimeNs: bigint;
  size: bigint;
}

/** The identity of `file` now, or null when it does not exist. */
export function markFile(file: string): FileMark | null {
  try {
    const st = fs.statSync(file, { bigint: true });
    return { ino: st.ino, mtimeNs: st.mtimeNs, size: st.size };
  } catch {
    return null;
  }
}

function changedSince(before: FileMark | null, now: FileMark | null): boolean {
  if (now === null) return false;
  if (before === null) return true;
  return now.ino !== before.ino || now.mtimeNs !== before.mtimeNs || now.size !== before.size;
}

/** A YAML scalar that reads back as exactly `s`. */
function yamlString(s: string): string {
  return JSON.stringify(s);
}

/** The request file's text: frontmatter, a blank line, the prompt. */
export function formatRequest(info: RequestInfo, prompt: string): string {
  return [
    "---",
    `incident_id: ${yamlString(info.incidentId)}`,
    `detector: ${yamlString(info.detector)}`,
    "subagent:",
    `  type: ${yamlString(info.subagent.type)}`,
    `  description: ${yamlString(info.subagent.description)}`,
    `timeout_seconds: ${Math.round(info.timeoutSeconds)}`,
    `requested_at: ${yamlString(new Date().toISOString())}`,
    "---",
    "",
    prompt.endsWith("\n") ? prompt : `${prompt}\n`,
  ].join("\n");
}

/** `incident_id` of a request file's frontmatter, or null. */
export function requestIncidentId(text: string): string | null {
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!fm) return null;
  const m = /^incident_id:[ \t]*(.+?)[ \t]*$/m.exec(fm[1]!);
  if (!m) return null;
  const v = m[1]!;
  if (v.startsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return null;
    }
  }
  return v.replace(/^'|'$/g, "");
}

/** The incident a response names (`<!-- incident_id: X -->`), or null when it names none. */
export function responseIncidentId(text: string): string | null {
  const m = /<!--\s*incident_id:\s*(\S+?)\s*-->/.exec(text);
  return m ? m[1]! : null;
}

/** The response file's text for `action` (null → `ACTION: none`). */
export function formatResponse(
  action: Action | null,
  opts: { incidentId?: string | null; diagnosis?: string },
): string {
  const parts: string[] = [];
  if (opts.incidentId) parts.push(`<!-- incident_id: ${opts.incidentId} -->`);
  const d = opts.diagnosis?.trim();
  if (d) parts.push(d);
  parts.push(formatActionBlock(action).trimEnd());
  return `${parts.join("\n\n")}\n`;
}

/** Write the response file atomically (what `autosentry healer respond` does). */
export function writeResponse(file: string, text: string): void {
  writeFileAtomicSync(file, text);
}

export type WaitResult = { kind: "response"; text: string } | { kind: "timeout" } | { kind: "aborted" };

export interface InteractiveOptions {
  requestPath: string;
  responsePath: string;
  info: RequestInfo;
  prompt: string;
  signal?: AbortSignal;
  /** How often the response file is checked. Default 250 ms. */
  pollMs?: number;
  /** Responses naming another incident are ignored; each one is reported here once. */
  onIgnored?: (why: string) => void;
}

/** Run the handshake (see the module comment). Never rejects for a missing or late response. */
export async function requestAndWait(opts: InteractiveOptions): Promise<WaitResult> {
  const baseline = markFile(opts.responsePath);
  await writeFileAtomic(opts.requestPath, formatRequest(opts.info, opts.prompt));
  const deadline = Date.now() + opts.info.timeoutSeconds * 1000;
  const pollMs = opts.pollMs ?? 250;
  let seen = baseline;
  try {
    for (;;) {
      if (opts.signal?.aborted) return { kind: "aborted" };
      const now = markFile(opts.responsePath);
      if (changedSince(seen, now)) {
        seen = now;
        let text: string | null = null;
        try {
          text = fs.readFileSync(opts.responsePath, "utf8");
        } catch {}
        if (text !== null) {
          const named = responseIncidentId(text);
          if (named === null || named === opts.info.incidentId) return { kind: "response", text };
          opts.onIgnored?.(`ignored a response for incident ${named} (waiting for ${opts.info.incidentId})`);
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timeout" };
      await sleep(Math.min(pollMs, left), opts.signal);
    }
  } finally {
    fs.rmSync(opts.requestPath, { force: true });
  }
}

/** Sleep `ms`, waking early when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
