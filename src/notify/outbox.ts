/**
 * @module
 * The `slack_outbox` / `discord_outbox` notifiers: each notification becomes one line appended to a
 * JSON Lines outbox that a dispatcher delivers later (inventory §4.12, same line shape as the
 * Python tool so its dispatcher and ours read the same file):
 * `{"id": "<unix time, 6 decimals>", "channel", "thread_key", "kind", "title", "body", "incident_id", "sent": false}`.
 * plus `facts` (the notification's structured detail, for readable messages) and `url` (the
 * incident's web viewer page). The line is appended in one write, so a concurrent reader never
 * sees half of it, and the file is never rewritten: delivery state lives in the dispatcher's own
 * ledger (src/dispatcher/ledger.ts), so `sent` stays `false` here for good (inventory §6 item 33).
 *
 * Rotation (`outbox_max_bytes`, `outbox_backups`; 10 MB × 3 like autosentry.log): after an append
 * that takes the file past the size, this writer renames it to `<outbox>.1` (shifting older ones
 * up to `.N`), and the next append starts a new file. The writer rotates, not the dispatcher:
 * after the rename nothing writes the old file again, so the dispatcher, which follows the file
 * by inode, can read the rotated one to its end and go on with the next (outbox-reader.ts). This
 * needs one writer per outbox, which the monitor's lock gives (two projects configured with the
 * same `outbox_path` could lose a line appended to a file the other one had just rotated).
 */
import * as fs from "node:fs";
import type { Notification, NotificationDetail } from "../core/types.ts";
import { appendJsonl } from "../util/jsonl.ts";
import type { Logger } from "../util/logger.ts";
import { incidentUrl } from "./message.ts";
import type { Notifier } from "./types.ts";

export type OutboxPlatform = "slack" | "discord";

export interface OutboxLine {
  id: string;
  channel: string | null;
  thread_key: string | null;
  kind: Notification["kind"];
  title: string;
  body: string;
  incident_id: string | null;
  sent: false;
  facts?: NotificationDetail | null;
  url?: string | null;
}

export interface OutboxNotifierOptions {
  platform: OutboxPlatform;
  /** Absolute path of the outbox file. */
  path: string;
  channel?: string | undefined;
  threadKey?: string | undefined;
  logger: Logger;
  /** Clock, epoch ms with a fraction (default: performance clock, microsecond resolution). */
  now?: () => number;
  /** `web.public_url`, for the incident link. */
  publicUrl?: string | undefined;
  /** Rotate past this size (default 10 MB). */
  maxBytes?: number | undefined;
  /** Rotated files kept, at least 1 (default 3). */
  backups?: number | undefined;
}

/** Rename `file` to `file.1`, shifting `file.1` … to `.2` …, dropping what would pass `.backups`. */
export function rotateOutbox(file: string, backups: number): void {
  const n = Math.max(1, backups);
  fs.rmSync(`${file}.${n}`, { force: true });
  for (let i = n - 1; i >= 1; i--) {
    try {
      fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    } catch {}
  }
  fs.renameSync(file, `${file}.1`);
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_BACKUPS = 3;

/** Last id (µs) written per outbox file by this process. */
const lastIds = new Map<string, number>();

/** Unix seconds with 6 decimals, strictly increasing per file within this process (the dispatcher keys on it). */
function nextId(file: string, nowMs: number): string {
  let micros = Math.floor(nowMs * 1000);
  const last = lastIds.get(file) ?? 0;
  if (micros <= last) micros = last + 1;
  lastIds.set(file, micros);
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
}

export class OutboxNotifier implements Notifier {
  readonly name: string;
  private readonly now: () => number;

  constructor(private readonly opts: OutboxNotifierOptions) {
    this.name = `${opts.platform}_outbox`;
    this.now = opts.now ?? (() => performance.timeOrigin + performance.now());
  }

  notify(n: Notification): void {
    const line: OutboxLine = {
      id: nextId(this.opts.path, this.now()),
      channel: this.opts.channel ?? null,
      thread_key: this.opts.threadKey ?? null,
      kind: n.kind,
      title: n.title,
      body: n.body,
      incident_id: n.incident_id,
      sent: false,
    };
    // Only when there is something to add, so lines stay the Python shape otherwise.
    if (n.detail) line.facts = n.detail;
    const url = incidentUrl(this.opts.publicUrl, n.incident_id);
    if (url) line.url = url;
    try {
      appendJsonl(this.opts.path, line);
      this.opts.logger.log("SLACK", `[${this.opts.platform}] queued [${n.kind}] ${n.title}`);
    } catch (err) {
      try {
        this.opts.logger.error(`${this.name}: cannot append to ${this.opts.path}: ${(err as Error).message}`);
      } catch {}
      return;
    }
    try {
      if (fs.statSync(this.opts.path).size > (this.opts.maxBytes ?? DEFAULT_MAX_BYTES))
        rotateOutbox(this.opts.path, this.opts.backups ?? DEFAULT_BACKUPS);
    } catch (err) {
      try {
        this.opts.logger.error(`${this.name}: cannot rotate ${this.opts.path}: ${(err as Error).message}`);
      } catch {}
    }
  }

  async close(_timeoutMs: number): Promise<void> {}
}
