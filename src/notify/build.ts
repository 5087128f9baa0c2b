/**
 * @module
 * Notifiers from the `notifiers:` config list. Outbox paths are resolved against the project root
 * (not the monitor's cwd) and `discord_outbox` defaults to its own file, not Slack's (inventory §6
 * item 32). Each notifier is wrapped, innermost first, in: its filter (`events`, `detectors`), its
 * folding of repeats (`fold_window_seconds`), and the redactor, so the redactor sees everything
 * before any notifier does.
 */
import * as path from "node:path";
import type { NotifierSpec } from "../config/schema.ts";
import type { Logger } from "../util/logger.ts";
import { CommandNotifier } from "./command.ts";
import { Fanout, FilteredNotifier, RedactingNotifier } from "./fanout.ts";
import { FoldingNotifier } from "./fold.ts";
import { LogNotifier } from "./log.ts";
import { OutboxNotifier } from "./outbox.ts";
import type { Notifier } from "./types.ts";
import { WebhookNotifier } from "./webhook.ts";

export interface BuildNotifiersOptions {
  logger: Logger;
  /** Project name for webhook payloads, and the default thread of outbox notifiers. */
  project: string;
  /** Project root; relative outbox paths are resolved against it (default: cwd). */
  root?: string;
  /** Host name for webhook payloads (default: os.hostname()). */
  host?: string;
  /** Applied to every title and body before any notifier sees it (default: identity). */
  redact?: (text: string) => string;
  /** `web.public_url`: notifications link to the incident page. */
  publicUrl?: string | undefined;
}

/** Default outbox file per platform, relative to the project root. */
export const DEFAULT_OUTBOX_PATHS = {
  slack: ".autosentry/slack_outbox.jsonl",
  discord: ".autosentry/discord_outbox.jsonl",
} as const;

/** The outbox file of an outbox notifier spec, absolute. */
export function outboxPathOf(spec: NotifierSpec, root: string): string | null {
  if (spec.kind !== "slack_outbox" && spec.kind !== "discord_outbox") return null;
  const platform = spec.kind === "slack_outbox" ? "slack" : "discord";
  return path.resolve(root, spec.outbox_path ?? DEFAULT_OUTBOX_PATHS[platform]);
}

function buildOne(spec: NotifierSpec, opts: BuildNotifiersOptions): Notifier {
  const root = opts.root ?? process.cwd();
  switch (spec.kind) {
    case "log":
      return new LogNotifier(opts.logger);
    case "slack_outbox":
    case "discord_outbox":
      return new OutboxNotifier({
        platform: spec.kind === "slack_outbox" ? "slack" : "discord",
        path: outboxPathOf(spec, root) as string,
        channel: spec.channel,
        // One thread per project unless told otherwise: a run's story reads top to bottom in one
        // place, and replies there are commands to this project's monitor.
        threadKey: spec.thread_key ?? opts.project,
        logger: opts.logger,
        publicUrl: opts.publicUrl,
        maxBytes: spec.outbox_max_bytes,
        backups: spec.outbox_backups,
      });
    case "webhook":
      if (!spec.url) throw new Error("Cannot build webhook notifier: no url");
      return new WebhookNotifier({
        url: spec.url,
        headers: spec.headers,
        timeoutMs: spec.timeout_seconds * 1000,
        retries: spec.retries,
        logger: opts.logger,
        project: opts.project,
        secretEnv: spec.secret_env,
        signatureHeader: spec.signature_header,
        publicUrl: opts.publicUrl,
        ...(opts.host !== undefined ? { host: opts.host } : {}),
      });
    case "command":
      if (!spec.argv?.length) throw new Error("Cannot build command notifier: no argv");
      return new CommandNotifier({
        argv: spec.argv,
        timeoutMs: spec.timeout_seconds * 1000,
        logger: opts.logger,
        project: opts.project,
        publicUrl: opts.publicUrl,
        cwd: root,
        ...(opts.host !== undefined ? { host: opts.host } : {}),
      });
  }
}

/** One notifier per spec, wrapped in its filter, its folding and the redactor. */
export function buildNotifiers(specs: NotifierSpec[], opts: BuildNotifiersOptions): Notifier[] {
  return specs.map((spec) => {
    let n = buildOne(spec, opts);
    // The log keeps every occurrence (it is the record); folding is for what reaches people.
    if (spec.kind !== "log" && spec.fold_window_seconds > 0)
      n = new FoldingNotifier(n, spec.fold_window_seconds * 1000);
    if (spec.events || spec.detectors) n = new FilteredNotifier(n, spec.events, spec.detectors);
    return opts.redact ? new RedactingNotifier(n, opts.redact) : n;
  });
}

/** All configured notifiers behind one {@link Fanout}. */
export function buildFanout(specs: NotifierSpec[], opts: BuildNotifiersOptions): Fanout {
  return new Fanout(buildNotifiers(specs, opts), opts.logger);
}
