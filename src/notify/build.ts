/**
 * @module
 * Notifiers from the `notifiers:` config list. Outbox paths are resolved against the project root
 * (not the monitor's cwd) and `discord_outbox` defaults to its own file, not Slack's (inventory §6
 * item 32). A spec's `events` list becomes a filter around its notifier.
 */
import * as path from "node:path";
import type { NotifierSpec } from "../config/schema.ts";
import type { Logger } from "../util/logger.ts";
import { Fanout, FilteredNotifier, RedactingNotifier } from "./fanout.ts";
import { LogNotifier } from "./log.ts";
import { OutboxNotifier } from "./outbox.ts";
import type { Notifier } from "./types.ts";
import { WebhookNotifier } from "./webhook.ts";

export interface BuildNotifiersOptions {
  logger: Logger;
  /** Project name for webhook payloads. */
  project: string;
  /** Project root; relative outbox paths are resolved against it (default: cwd). */
  root?: string;
  /** Host name for webhook payloads (default: os.hostname()). */
  host?: string;
  /** Applied to every title and body before any notifier sees it (default: identity). */
  redact?: (text: string) => string;
}

/** Default outbox file per platform, relative to the project root. */
export const DEFAULT_OUTBOX_PATHS = {
  slack: ".autosentry/slack_outbox.jsonl",
  discord: ".autosentry/discord_outbox.jsonl",
} as const;

function buildOne(spec: NotifierSpec, opts: BuildNotifiersOptions): Notifier {
  const root = opts.root ?? process.cwd();
  switch (spec.kind) {
    case "log":
      return new LogNotifier(opts.logger);
    case "slack_outbox":
    case "discord_outbox": {
      const platform = spec.kind === "slack_outbox" ? "slack" : "discord";
      return new OutboxNotifier({
        platform,
        path: path.resolve(root, spec.outbox_path ?? DEFAULT_OUTBOX_PATHS[platform]),
        channel: spec.channel,
        threadKey: spec.thread_key,
        logger: opts.logger,
      });
    }
    case "webhook":
      if (!spec.url) throw new Error("Cannot build webhook notifier: no url");
      return new WebhookNotifier({
        url: spec.url,
        headers: spec.headers,
        timeoutMs: spec.timeout_seconds * 1000,
        retries: spec.retries,
        logger: opts.logger,
        project: opts.project,
        ...(opts.host !== undefined ? { host: opts.host } : {}),
      });
  }
}

/** One notifier per spec, each wrapped in its `events` filter when it has one, then in the redactor. */
export function buildNotifiers(specs: NotifierSpec[], opts: BuildNotifiersOptions): Notifier[] {
  return specs.map((spec) => {
    let n = buildOne(spec, opts);
    if (spec.events) n = new FilteredNotifier(n, spec.events);
    return opts.redact ? new RedactingNotifier(n, opts.redact) : n;
  });
}

/** All configured notifiers behind one {@link Fanout}. */
export function buildFanout(specs: NotifierSpec[], opts: BuildNotifiersOptions): Fanout {
  return new Fanout(buildNotifiers(specs, opts), opts.logger);
}
