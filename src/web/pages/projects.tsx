/** @jsxImportSource hono/jsx */
/**
 * @module
 * `--root DIR`: every project found, side by side, each with its state and newest incident.
 */
import type { WebProject } from "../project.ts";
import { Layout, type PageCtx, Tag, when } from "./layout.tsx";

export function ProjectsPage(props: {
  ctx: PageCtx;
  projects: WebProject[];
  errors: string[];
  root: string;
}) {
  return (
    <Layout ctx={props.ctx} title={`Projects under ${props.root}`} here="/" topics={["state", "incident"]}>
      <div id="live">
        {props.projects.length === 0 ? (
          <p class="muted">No project with a .autosentry folder found.</p>
        ) : null}
        <div class="grid">
          {props.projects.map((p) => {
            const { state } = p.state();
            const newest = p.incidents.newest(1)[0];
            const alive = p.monitorAlive();
            return (
              <section class="card project" data-project={p.slug}>
                <h2>
                  <a href={`/p/${p.slug}`}>{p.name}</a>
                </h2>
                <dl class="kv">
                  <dt>phase</dt>
                  <dd>
                    <Tag value={state ? state.phase : "never run"} />
                    {state && !alive && !["completed", "gave_up", "aborted", "stopped"].includes(state.phase)
                      ? " (monitor not running)"
                      : ""}
                  </dd>
                  <dt>restarts</dt>
                  <dd>
                    {state ? `${state.restarts} / ${state.max_restarts > 0 ? state.max_restarts : "∞"}` : "-"}
                  </dd>
                  <dt>incidents</dt>
                  <dd>{p.incidents.size}</dd>
                  <dt>newest</dt>
                  <dd>
                    {newest ? (
                      <>
                        <a href={`/p/${p.slug}/incidents/${encodeURIComponent(newest.id)}`}>{newest.id}</a>
                        {` ${when(newest.time)} `}
                        <span class="muted">{newest.message.slice(0, 100)}</span>
                      </>
                    ) : (
                      "none"
                    )}
                  </dd>
                </dl>
              </section>
            );
          })}
        </div>
        {props.errors.map((e) => (
          <p class="error">{e}</p>
        ))}
      </div>
    </Layout>
  );
}
