/** @jsxImportSource hono/jsx */
/**
 * @module
 * The attempts page: the `autosentry analyze` tables (src/fixes/analyze.ts) over the ledger, and
 * charts over time (uPlot, embedded) drawn by the page script from `/api/attempts`.
 */
import type { LedgerSummary } from "../../fixes/analyze.ts";
import type { Attempt } from "../../fixes/ledger.ts";
import { MAX_DURATION_POINTS } from "../attempts-data.ts";
import { Layout, type PageCtx, Tag, when } from "./layout.tsx";

export function AttemptsPage(props: {
  ctx: PageCtx;
  summary: LedgerSummary;
  recent: Attempt[];
  since: string;
  error: string | null;
}) {
  const { ctx, summary: s } = props;
  const api = `${ctx.base}/api/attempts${props.since ? `?since=${encodeURIComponent(props.since)}` : ""}`;
  return (
    <Layout ctx={ctx} title="Attempts" here="/attempts" topics={["attempts"]} scripts={["uplot"]}>
      <form class="filters" method="get">
        <label>
          since
          <input name="since" value={props.since} placeholder="24h, 7d, 600s" size={8} />
        </label>
        <button type="submit">Apply</button>
      </form>
      {props.error ? <p class="error">{props.error}</p> : null}
      <div id="live">
        <div class="grid">
          <section class="card">
            <h2>By status</h2>
            <p>{`${s.total} attempt${s.total === 1 ? "" : "s"}`}</p>
            <table>
              <tbody>
                {Object.entries(s.by_status).map(([k, v]) => (
                  <tr>
                    <td>
                      <Tag value={k} prefix="status" />
                    </td>
                    <td>{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="card">
            <h2>Top detectors</h2>
            <table>
              <tbody>
                {s.top_detectors.map(([d, n]) => (
                  <tr>
                    <td>{d}</td>
                    <td>{n}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
        <section class="card">
          <h2>Rules and sources</h2>
          <table id="rules">
            <thead>
              <tr>
                <th>source</th>
                <th>total</th>
                <th>kept</th>
                <th>regressed</th>
                <th>crashed</th>
                <th>discarded</th>
                <th>pending</th>
                <th>success rate</th>
              </tr>
            </thead>
            <tbody>
              {s.rules.map((r) => (
                <tr>
                  <td>{r.source}</td>
                  <td>{r.total}</td>
                  <td>{r.kept}</td>
                  <td>{r.regressed}</td>
                  <td>{r.crashed}</td>
                  <td>{r.discarded}</td>
                  <td>{r.pending}</td>
                  <td>{`${Math.round(r.success_rate * 100)}%`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="card">
          <h2>Detector streaks</h2>
          <table>
            <thead>
              <tr>
                <th>detector</th>
                <th>total</th>
                <th>streak</th>
              </tr>
            </thead>
            <tbody>
              {s.detector_streaks.map((d) => (
                <tr>
                  <td>{d.detector}</td>
                  <td>{d.total}</td>
                  <td>
                    {`${d.streak_len} × `}
                    <Tag value={d.streak_status} prefix="status" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="card">
          <h2>Over time</h2>
          <div class="chart" data-src={api} data-kind="daily"></div>
          <div class="chart" data-src={api} data-kind="duration"></div>
          <p class="muted">
            {`Time to a verdict: every attempt is a point up to ${MAX_DURATION_POINTS.toLocaleString("en-US")}; above that, the span is cut into equal time buckets and each shows its fastest and slowest attempt (at their own times) and its median.`}
          </p>
        </section>
        <section>
          <h2>Newest attempts</h2>
          <table>
            <thead>
              <tr>
                <th>time (UTC)</th>
                <th>incident</th>
                <th>detector</th>
                <th>source</th>
                <th>status</th>
                <th>seconds</th>
                <th>description</th>
              </tr>
            </thead>
            <tbody>
              {props.recent.map((a) => (
                <tr>
                  <td>{when(a.timestamp)}</td>
                  <td>
                    <a href={`${ctx.base}/incidents/${encodeURIComponent(a.incident_id)}`}>{a.incident_id}</a>
                  </td>
                  <td>{a.detector}</td>
                  <td>{a.source}</td>
                  <td>
                    <Tag value={a.status} prefix="status" />
                  </td>
                  <td>{a.duration_seconds}</td>
                  <td class="msg">{a.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </Layout>
  );
}
