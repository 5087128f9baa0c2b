/**
 * @module
 * Messages people want to read on a phone at 3 a.m.: one line that says what broke and what was
 * done, then the detail (exception, innermost frame, incident id, a link to the web viewer).
 * The same {@link RenderedMessage} becomes plain text (log, stdout, webhook fallbacks), Slack
 * Block Kit blocks, or a Discord embed; the plain text always travels with the rich form so a
 * client that cannot show blocks or embeds still shows everything.
 */
import type { Notification, NotificationDetail } from "../core/types.ts";

export interface RenderedMessage {
  /** The one line: `train.py: CUDA out of memory at step 84,000 → restarted with BATCH_SIZE=32 (rule oom_halve_batch); restart 2/50`. */
  summary: string;
  /** Detail lines, each self-contained (`exception: …`, `at: …`, `incident: …`). */
  detail: string[];
  /** Link to the incident in the web viewer, when `web.public_url` is set. */
  url: string | null;
  kind: Notification["kind"];
  incident_id: string | null;
}

export interface RenderOptions {
  /** `web.public_url`; links point at `<public_url>/incidents/<id>`. */
  publicUrl?: string | undefined;
}

/** At most `max` characters, cut with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

function restartLabel(d: NotificationDetail): string {
  if (d.restart === undefined) return "";
  const cap = d.max_restarts === undefined || d.max_restarts === 0 ? "∞" : String(d.max_restarts);
  return `; restart ${d.restart}/${cap}`;
}

/** The one line of a notification. */
export function summaryLine(n: Notification): string {
  const d = n.detail;
  if (!d?.what) return n.title;
  const subject = d.subject ? `${d.subject}: ` : "";
  const action = d.action ? ` → ${d.action}${d.rule ? ` (rule ${d.rule})` : ""}` : "";
  return `${subject}${d.what}${action}${restartLabel(d)}`;
}

/** Web viewer link of an incident, or null. */
export function incidentUrl(publicUrl: string | undefined, incidentId: string | null): string | null {
  if (!publicUrl || !incidentId) return null;
  return `${publicUrl.replace(/\/+$/, "")}/incidents/${encodeURIComponent(incidentId)}`;
}

/** Summary, detail lines and link of a notification. */
export function renderMessage(n: Notification, opts: RenderOptions = {}): RenderedMessage {
  const d = n.detail;
  const detail: string[] = [];
  // With structured detail the title is already in the summary; the body is the free-text rest.
  if (d?.what && n.title && !n.title.includes(d.what) && !summaryLine(n).includes(n.title))
    detail.push(n.title);
  if (n.body) detail.push(n.body);
  if (d?.exception) detail.push(`exception: ${clip(d.exception, 300)}`);
  if (d?.frame) detail.push(`at: ${clip(d.frame, 200)}`);
  if (d?.detector) detail.push(`detector: ${d.detector}`);
  if (n.incident_id) detail.push(`incident: ${n.incident_id}`);
  const url = incidentUrl(opts.publicUrl, n.incident_id);
  return { summary: clip(summaryLine(n), 300), detail, url, kind: n.kind, incident_id: n.incident_id };
}

/** Plain text: the summary, then one detail line each, then the link. */
export function plainText(m: RenderedMessage): string {
  return [m.summary, ...m.detail, ...(m.url ? [m.url] : [])].join("\n");
}

const EMOJI: Record<Notification["kind"], string> = {
  anomaly: "🔴",
  recovery: "🛠️",
  exit: "⏹️",
  start: "▶️",
  milestone: "🏁",
  heartbeat: "💓",
};

/** Discord embed colours by kind. */
const COLOUR: Record<Notification["kind"], number> = {
  anomaly: 0xd93025,
  recovery: 0xf9ab00,
  exit: 0x5f6368,
  start: 0x1e8e3e,
  milestone: 0x1a73e8,
  heartbeat: 0x5f6368,
};

/** Escape Slack mrkdwn control characters (`&`, `<`, `>`). */
export function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * Slack Block Kit: a section with the summary, a context block with the detail, a button to the
 * incident page. `footer` is an extra context line (the dispatcher puts the message key there).
 */
export function slackBlocks(m: RenderedMessage, footer?: string): unknown[] {
  const blocks: unknown[] = [
    { type: "section", text: { type: "mrkdwn", text: `${EMOJI[m.kind]} *${slackEscape(m.summary)}*` } },
  ];
  if (m.detail.length > 0) {
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: clip(slackEscape(m.detail.join("\n")), 2900) }],
    });
  }
  if (m.url) {
    blocks.push({
      type: "actions",
      elements: [{ type: "button", text: { type: "plain_text", text: "Open incident" }, url: m.url }],
    });
  }
  if (footer) blocks.push({ type: "context", elements: [{ type: "plain_text", text: footer }] });
  return blocks;
}

/** A Discord embed (title ≤ 256, description ≤ 4096 characters). */
export function discordEmbed(m: RenderedMessage, footer?: string): Record<string, unknown> {
  const embed: Record<string, unknown> = {
    title: clip(`${EMOJI[m.kind]} ${m.summary}`, 256),
    color: COLOUR[m.kind],
  };
  if (m.detail.length > 0) embed.description = clip(m.detail.join("\n"), 4000);
  if (m.url) embed.url = m.url;
  if (footer) embed.footer = { text: footer };
  return embed;
}

function minutes(ms: number): string {
  const min = Math.max(1, Math.round(ms / 60_000));
  return min >= 120 ? `${Math.round(min / 60)} h` : `${min} min`;
}

/**
 * The message that stands for `count` repeats of one failure (`first` is the first of them) seen
 * over `spanMs`: `train.py: CUDA out of memory ×7 in 10 min, healed each time`.
 */
export function foldedNotification(
  first: Notification,
  last: Notification,
  count: number,
  healedAll: boolean,
  healedAny: boolean,
  spanMs: number,
): Notification {
  const d = last.detail ?? {};
  const what = d.what ?? first.detail?.what ?? first.title;
  const how = healedAll ? "healed each time" : healedAny ? "healed some of the time" : "not healed";
  const subject = d.subject ? `${d.subject}: ` : "";
  const title = `${subject}${what} ×${count} in ${minutes(spanMs)}, ${how}`;
  return {
    kind: last.kind,
    title,
    body: `last: ${summaryLine(last)}`,
    incident_id: last.incident_id,
    detail: {
      ...d,
      what: `${what} ×${count} in ${minutes(spanMs)}, ${how}`,
      action: undefined,
      rule: undefined,
    },
  };
}
