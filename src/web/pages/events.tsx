/** @jsxImportSource hono/jsx */
/**
 * @module
 * The journal as a filterable timeline (kind, time range, incident, text), newest first.
 */
import type { EventPage } from "../journal-index.ts";
import { withQuery } from "../url.ts";
import { Layout, type PageCtx, when } from "./layout.tsx";

export interface EventParams {
  kind?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  incident?: string | undefined;
  q?: string | undefined;
}

const SKIP = new Set(["seq", "schema_version", "time", "run_id", "stage", "event"]);

/** The event's details as `key=value` text (values JSON, strings bare). */
function details(e: Record<string, unknown>): string {
  return Object.entries(e)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("  ");
}

export function EventsPage(props: {
  ctx: PageCtx;
  page: EventPage;
  kinds: string[];
  params: EventParams;
  error: string | null;
}) {
  const { ctx, page, params } = props;
  const path = `${ctx.base}/events`;
  const link = (n: number) => withQuery(path, { ...params, page: n });
  return (
    <Layout ctx={ctx} title="Events" here="/events" topics={["event"]}>
      <form class="filters" method="get" action={path}>
        <label>
          search
          <input type="search" name="q" value={params.q ?? ""} />
        </label>
        <label>
          kind
          <select name="kind">
            <option value="">any</option>
            {props.kinds.map((k) => (
              <option value={k} selected={k === params.kind}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          since
          <input name="since" value={params.since ?? ""} placeholder="1h" size={10} />
        </label>
        <label>
          until
          <input name="until" value={params.until ?? ""} size={10} />
        </label>
        <label>
          incident
          <input name="incident" value={params.incident ?? ""} size={18} />
        </label>
        <button type="submit">Filter</button>
        <a class="button quiet" href={path}>
          Clear
        </a>
      </form>
      {props.error ? <p class="error">{props.error}</p> : null}
      <div id="live">
        <div class="pager">
          {page.page > 1 ? <a href={link(page.page - 1)}>← newer</a> : <span class="muted">← newer</span>}
          <span>{`page ${page.page} of ${page.pages} (${page.total} events)`}</span>
          {page.page < page.pages ? (
            <a href={link(page.page + 1)}>older →</a>
          ) : (
            <span class="muted">older →</span>
          )}
        </div>
        <table class="events">
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>event</th>
              <th>stage</th>
              <th>details</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((e) => (
              <tr data-seq={String(e.seq)}>
                <td>{when(typeof e.time === "string" ? e.time : null)}</td>
                <td>
                  <span class="tag">{String(e.event ?? "")}</span>
                </td>
                <td>{typeof e.stage === "string" ? e.stage : ""}</td>
                <td class="msg">
                  {typeof e.incident_id === "string" ? (
                    <a href={`${ctx.base}/incidents/${encodeURIComponent(e.incident_id)}`}>{e.incident_id}</a>
                  ) : null}{" "}
                  <code>{details(e)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
