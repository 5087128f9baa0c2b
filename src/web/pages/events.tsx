/** @jsxImportSource hono/jsx */
/**
 * @module
 * The journal as a filterable timeline (kind, time range, incident, text), newest first.
 */
import { raw } from "hono/html";
import type { EventPage } from "../journal-index.ts";
import { withQuery } from "../url.ts";
import { Layout, type PageCtx } from "./layout.tsx";
import { eventRowsHtml } from "./rows.ts";

export interface EventParams {
  kind?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  incident?: string | undefined;
  q?: string | undefined;
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
          <tbody>{raw(eventRowsHtml(ctx.base, page.items))}</tbody>
        </table>
      </div>
    </Layout>
  );
}
