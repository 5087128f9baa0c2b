/** @jsxImportSource hono/jsx */
/**
 * @module
 * The incidents list: filters (detector, kind, group, time range), text search, pagination, and a
 * grouped view (each failure once, by fingerprint, with its count).
 */
import type { IncidentGroup } from "../../incidents/groups.ts";
import type { IncidentPage } from "../incident-index.ts";
import type { WebProject } from "../project.ts";
import { withQuery } from "../url.ts";
import { Layout, type PageCtx, when } from "./layout.tsx";
import { IncidentTable } from "./overview.tsx";

/** The raw query parameters of the page (echoed into the form and the pager links). */
export interface IncidentParams {
  detector?: string | undefined;
  kind?: string | undefined;
  group?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  q?: string | undefined;
  view?: string | undefined;
  per_page?: string | undefined;
}

function Pager(props: { path: string; params: IncidentParams; page: number; pages: number; total: number }) {
  const link = (page: number) => withQuery(props.path, { ...props.params, page });
  return (
    <div class="pager">
      {props.page > 1 ? (
        <a rel="prev" href={link(props.page - 1)}>
          ← newer
        </a>
      ) : (
        <span class="muted">← newer</span>
      )}
      <span>{`page ${props.page} of ${props.pages} (${props.total} matching)`}</span>
      {props.page < props.pages ? (
        <a rel="next" href={link(props.page + 1)}>
          older →
        </a>
      ) : (
        <span class="muted">older →</span>
      )}
    </div>
  );
}

function Filters(props: { path: string; params: IncidentParams; project: WebProject }) {
  const f = props.project.incidents.facets();
  const p = props.params;
  return (
    <form class="filters" method="get" action={props.path}>
      <label>
        search
        <input type="search" name="q" value={p.q ?? ""} placeholder="text in id, message, rule…" />
      </label>
      <label>
        detector
        <select name="detector">
          <option value="">any</option>
          {f.detectors.map((d) => (
            <option value={d} selected={d === p.detector}>
              {d}
            </option>
          ))}
        </select>
      </label>
      <label>
        kind
        <select name="kind">
          <option value="">any</option>
          {f.kinds.map((k) => (
            <option value={k} selected={k === p.kind}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <label>
        since
        <input name="since" value={p.since ?? ""} placeholder="24h or 2026-11-20" size={12} />
      </label>
      <label>
        until
        <input name="until" value={p.until ?? ""} placeholder="2026-11-21T12:00" size={12} />
      </label>
      <label>
        view
        <select name="view">
          <option value="">list</option>
          <option value="grouped" selected={p.view === "grouped"}>
            grouped by failure
          </option>
        </select>
      </label>
      {p.group ? <input type="hidden" name="group" value={p.group} /> : null}
      <button type="submit">Filter</button>
      <a class="button quiet" href={props.path}>
        Clear
      </a>
    </form>
  );
}

function GroupTable(props: { base: string; groups: IncidentGroup[]; params: IncidentParams }) {
  if (props.groups.length === 0) return <p class="muted">No incidents match.</p>;
  return (
    <table class="groups">
      <thead>
        <tr>
          <th>count</th>
          <th>first seen</th>
          <th>last seen</th>
          <th>newest</th>
          <th>detector</th>
          <th>kind</th>
          <th>message</th>
        </tr>
      </thead>
      <tbody>
        {props.groups.map((g) => (
          <tr>
            <td>
              <a
                href={withQuery(`${props.base}/incidents`, {
                  ...props.params,
                  view: undefined,
                  group: g.fingerprint ?? undefined,
                })}
              >
                {g.count}
              </a>
            </td>
            <td>{when(g.first_seen)}</td>
            <td>{when(g.last_seen)}</td>
            <td>
              <a href={`${props.base}/incidents/${encodeURIComponent(g.last_id)}`}>{g.last_id}</a>
            </td>
            <td>{g.detector}</td>
            <td>{g.kind}</td>
            <td class="msg">{g.message.length > 160 ? `${g.message.slice(0, 159)}…` : g.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function IncidentsPage(props: {
  ctx: PageCtx;
  project: WebProject;
  params: IncidentParams;
  error: string | null;
  page?: IncidentPage;
  groups?: { total: number; groups: IncidentGroup[]; page: number; pages: number };
}) {
  const { ctx, project, params } = props;
  const path = `${ctx.base}/incidents`;
  return (
    <Layout ctx={ctx} title="Incidents" here="/incidents" topics={["incident"]}>
      <Filters path={path} params={params} project={project} />
      {params.group ? (
        <p>
          {"Showing one failure group "}
          <code>{params.group}</code> <a href={withQuery(path, { ...params, group: undefined })}>show all</a>
        </p>
      ) : null}
      {props.error ? <p class="error">{props.error}</p> : null}
      <div id="live">
        {props.page ? (
          <>
            <Pager
              path={path}
              params={params}
              page={props.page.page}
              pages={props.page.pages}
              total={props.page.total}
            />
            <IncidentTable base={ctx.base} items={props.page.items} />
          </>
        ) : null}
        {props.groups ? (
          <>
            <Pager
              path={path}
              params={params}
              page={props.groups.page}
              pages={props.groups.pages}
              total={props.groups.total}
            />
            <GroupTable base={ctx.base} groups={props.groups.groups} params={params} />
          </>
        ) : null}
      </div>
    </Layout>
  );
}
