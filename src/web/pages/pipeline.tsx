/** @jsxImportSource hono/jsx */
/**
 * @module
 * The pipeline page: configured stages, the latest run, each stage's status, exit, restarts,
 * timing and evidence folder.
 */
import type { PipelineStatusReport } from "../../pipeline/status.ts";
import { Layout, type PageCtx, Tag, when } from "./layout.tsx";

export function PipelinePage(props: { ctx: PageCtx; report: PipelineStatusReport | null }) {
  const r = props.report;
  return (
    <Layout ctx={props.ctx} title="Pipeline" here="/pipeline" topics={["pipeline", "state"]}>
      <div id="live">
        {r === null ? (
          <p class="muted">
            This project has no pipeline (no process.stages in its config and no pipeline run).
          </p>
        ) : (
          <>
            <section class="card">
              <dl class="kv">
                <dt>run</dt>
                <dd>{r.run_id ?? "not run yet"}</dd>
                <dt>status</dt>
                <dd>
                  <Tag value={r.status} prefix="status" />
                  {r.controller_running ? " (controller running)" : ""}
                </dd>
                <dt>started</dt>
                <dd>{when(r.started_at)}</dd>
                <dt>ended</dt>
                <dd>{when(r.ended_at)}</dd>
                <dt>exit code</dt>
                <dd>{r.exit_code === null ? "-" : String(r.exit_code)}</dd>
                {r.parent_run_id ? (
                  <>
                    <dt>resumes</dt>
                    <dd>{r.parent_run_id}</dd>
                  </>
                ) : null}
                {r.reason ? (
                  <>
                    <dt>reason</dt>
                    <dd>{r.reason}</dd>
                  </>
                ) : null}
                {r.error ? (
                  <>
                    <dt>error</dt>
                    <dd class="error">{r.error}</dd>
                  </>
                ) : null}
                {r.config_changed ? (
                  <>
                    <dt>note</dt>
                    <dd>the configured stages differ from this run's: the config changed since</dd>
                  </>
                ) : null}
              </dl>
            </section>
            <table>
              <thead>
                <tr>
                  <th>#</th>
                  <th>stage</th>
                  <th>status</th>
                  <th>exit</th>
                  <th>restarts</th>
                  <th>started</th>
                  <th>ended</th>
                  <th>reason</th>
                  <th>evidence</th>
                </tr>
              </thead>
              <tbody>
                {r.stages.map((s) => (
                  <tr>
                    <td>{s.index}</td>
                    <td>{s.current ? `${s.name} ←` : s.name}</td>
                    <td>
                      <Tag value={s.status} prefix="status" />
                      {s.reused_from ? ` reused from ${s.reused_from.slice(0, 8)}` : ""}
                    </td>
                    <td>{s.exit_code === null ? "-" : String(s.exit_code)}</td>
                    <td>{s.restarts === null ? "-" : String(s.restarts)}</td>
                    <td>{when(s.started_at)}</td>
                    <td>{when(s.ended_at)}</td>
                    <td class="msg">{s.reason ?? ""}</td>
                    <td>
                      <code>{s.evidence_dir ?? "-"}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
    </Layout>
  );
}
