/**
 * @module
 * Requests to deliver given-up messages again (`autosentry dispatcher retry`): the command appends
 * one JSON line per message key to `.autosentry/dispatch/<outbox>.retry.jsonl`; the dispatcher that
 * holds the outbox's lock (standalone or the monitor's bridge) takes the file on its next tick and
 * records a `retry` in its ledger for each key it had given up. The command never writes the
 * ledger, whose only writer is the lock holder. Taking is rename-then-read: a line appended while
 * the dispatcher reads goes into a new file, taken on the next tick; a dispatcher killed after the
 * rename finds the renamed file on its next start (a repeated request is harmless: a key not given
 * up is ignored).
 */
import * as fs from "node:fs";
import { appendJsonl, readJsonl } from "../util/jsonl.ts";

/** The request file of the outbox whose lock is `lockPath` (`<dispatch>/<outbox>.lock`). */
export function retryRequestsPath(lockPath: string): string {
  return lockPath.replace(/\.lock$/, ".retry.jsonl");
}

/** Ask for `keys` (`o<position>`) to be delivered again. */
export function requestRetries(file: string, keys: readonly string[]): void {
  const at = new Date().toISOString();
  for (const k of keys) appendJsonl(file, { k, at });
}

/** The keys asked for since the last call (the request file is consumed). */
export function takeRetryRequests(file: string): string[] {
  const taking = `${file}.taking`;
  if (!fs.existsSync(taking)) {
    try {
      fs.renameSync(file, taking);
    } catch {
      return [];
    }
  }
  const keys = readJsonl<{ k?: unknown }>(taking)
    .records.map((r) => r.k)
    .filter((k): k is string => typeof k === "string");
  fs.rmSync(taking, { force: true });
  return [...new Set(keys)];
}
