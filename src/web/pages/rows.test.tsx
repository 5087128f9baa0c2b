/** @jsxImportSource hono/jsx */
import { describe, expect, test } from "bun:test";
import type { IndexEntry } from "../../incidents/types.ts";
import type { JournalEventRow } from "../journal-index.ts";
import { when } from "./layout.tsx";
import { eventDetails, eventRowsHtml, incidentRowsHtml } from "./rows.ts";

// The rows as the pages wrote them in JSX before they were built as strings: the string builders
// must give the same markup, escaping included.
const hostile: IndexEntry = {
  id: "2026-12-01T00-00-00Z-a&b",
  time: "2026-12-01T00:00:00.000Z",
  kind: "",
  detector: 'tr"<b>',
  message: `<script>alert('x')</script> & ü → ${"m".repeat(200)}`,
  exception_type: null,
  fingerprint: null,
  rule: null,
  action: "restart",
  source: null,
  generation: 1,
} as IndexEntry;

describe("rows", () => {
  test("incident rows: the markup hono/jsx gave, with every value escaped", () => {
    const base = "/p/x&y";
    const jsx = (
      <tbody>
        {[hostile].map((e) => (
          <tr data-id={e.id}>
            <td>
              <a href={`${base}/incidents/${encodeURIComponent(e.id)}`}>{e.id}</a>
            </td>
            <td>{when(e.time)}</td>
            <td>
              <span class="tag">{e.kind || "-"}</span>
            </td>
            <td>{e.detector || "-"}</td>
            <td>{e.rule ?? "-"}</td>
            <td>{e.action ?? "-"}</td>
            <td class="msg">{e.message.length > 160 ? `${e.message.slice(0, 159)}…` : e.message}</td>
          </tr>
        ))}
      </tbody>
    );
    const html = incidentRowsHtml(base, [hostile]);
    expect(`<tbody>${html}</tbody>`).toBe(String(jsx));
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)");
  });

  test("event rows: the markup hono/jsx gave, with and without an incident", () => {
    const items: JournalEventRow[] = [
      {
        seq: 7,
        time: "2026-12-01T00:00:01Z",
        stage: "train<1>",
        event: "incident",
        incident_id: 'a&b"c',
        n: null,
        o: { a: [1, "<b>"] },
      },
      { seq: 8, time: 5, event: "odd", stage: 7 },
    ];
    const base = "";
    const jsx = (
      <tbody>
        {items.map((e) => (
          <tr data-seq={String(e.seq)}>
            <td>{when(typeof e.time === "string" ? e.time : null)}</td>
            <td>
              <span class="tag">{String(e.event ?? "")}</span>
            </td>
            <td>{typeof e.stage === "string" ? e.stage : ""}</td>
            <td class="msg">
              {typeof e.incident_id === "string" ? (
                <a href={`${base}/incidents/${encodeURIComponent(e.incident_id)}`}>{e.incident_id}</a>
              ) : null}{" "}
              <code>{eventDetails(e)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    );
    expect(`<tbody>${eventRowsHtml(base, items)}</tbody>`).toBe(String(jsx));
    expect(eventDetails(items[0]!)).toBe('incident_id=a&b"c  n=null  o={"a":[1,"<b>"]}');
  });
});
