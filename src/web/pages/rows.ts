/**
 * @module
 * The long tables of the viewer (incident rows, journal rows) built as one string each, with the
 * exact markup hono/jsx gave them. A JSX element costs a props object, a children array, a node
 * and a string per attribute while it renders; at 50-100 rows a page that was most of the garbage
 * of a request, and bursts of renders drove the server's resident size over its 100 MB budget
 * (docs/benchmarks.md, web section). Every value is escaped by {@link escapeHtml}, which escapes
 * the same five characters as hono/jsx, so the output is the same byte for byte.
 */
import type { IndexEntry } from "../../incidents/types.ts";
import { escapeHtml } from "../html.ts";
import type { JournalEventRow } from "../journal-index.ts";
import { when } from "./layout.tsx";

/** A message cut to 160 characters, as the tables show it. */
export function clipMessage(m: string): string {
  return m.length > 160 ? `${m.slice(0, 159)}…` : m;
}

/** The `<tr>` rows of an incident table (newest first, as given). */
export function incidentRowsHtml(base: string, items: IndexEntry[]): string {
  let out = "";
  for (const e of items) {
    const id = escapeHtml(e.id);
    out +=
      `<tr data-id="${id}"><td><a href="${escapeHtml(`${base}/incidents/${encodeURIComponent(e.id)}`)}">${id}</a></td>` +
      `<td>${escapeHtml(when(e.time))}</td><td><span class="tag">${escapeHtml(e.kind || "-")}</span></td>` +
      `<td>${escapeHtml(e.detector || "-")}</td><td>${escapeHtml(e.rule ?? "-")}</td>` +
      `<td>${escapeHtml(e.action ?? "-")}</td><td class="msg">${escapeHtml(clipMessage(e.message))}</td></tr>`;
  }
  return out;
}

const SKIP = new Set(["seq", "schema_version", "time", "run_id", "stage", "event"]);

/** The event's details as `key=value` text (values JSON, strings bare). */
export function eventDetails(e: Record<string, unknown>): string {
  let out = "";
  for (const k in e) {
    if (SKIP.has(k)) continue;
    const v = e[k];
    out += `${out ? "  " : ""}${k}=${typeof v === "string" ? v : JSON.stringify(v)}`;
  }
  return out;
}

/** The `<tr>` rows of the events table. */
export function eventRowsHtml(base: string, items: JournalEventRow[]): string {
  let out = "";
  for (const e of items) {
    const inc =
      typeof e.incident_id === "string"
        ? `<a href="${escapeHtml(`${base}/incidents/${encodeURIComponent(e.incident_id)}`)}">${escapeHtml(e.incident_id)}</a>`
        : "";
    out +=
      `<tr data-seq="${e.seq}"><td>${escapeHtml(when(typeof e.time === "string" ? e.time : null))}</td>` +
      `<td><span class="tag">${escapeHtml(String(e.event ?? ""))}</span></td>` +
      `<td>${escapeHtml(typeof e.stage === "string" ? e.stage : "")}</td>` +
      `<td class="msg">${inc} <code>${escapeHtml(eventDetails(e))}</code></td></tr>`;
  }
  return out;
}
