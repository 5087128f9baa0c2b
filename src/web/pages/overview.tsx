/** @jsxImportSource hono/jsx */
/**
 * @module
 * The overview of one project: command, backend, child state, uptime, restarts against the budget,
 * stop reason, verification windows, operator actions, the newest incidents and a timeline of
 * launches, incidents and restarts.
 */
import { raw } from "hono/html";
import type { IndexEntry } from "../../incidents/types.ts";
import type { WebProject } from "../project.ts";
import { dur, Layout, type PageCtx, Tag, when } from "./layout.tsx";
import { incidentRowsHtml } from "./rows.ts";

export function IncidentTable(props: { base: string; items: IndexEntry[]; project?: WebProject }) {
  if (props.items.length === 0) return <p class="muted">No incidents recorded.</p>;
  return (
    <table class="incidents">
      <thead>
        <tr>
          <th>id</th>
          <th>time (UTC)</th>
          <th>kind</th>
          <th>detector</th>
          <th>rule</th>
          <th>action</th>
          <th>message</th>
        </tr>
      </thead>
      <tbody>{raw(incidentRowsHtml(props.base, props.items))}</tbody>
    </table>
  );
}

const LANES: Array<[string, string, string]> = [
  ["child_started", "launches", "#1565c0"],
  ["incident", "incidents", "#c62828"],
  ["restart_scheduled", "restarts", "#ef6c00"],
];

const BINS = 240;

/**
 * An SVG timeline of launches, incidents and restarts over the journal's span (at most 7 days).
 * Events are counted in {@link BINS} bins per lane, so a journal of 100,000 events draws at most
 * a few hundred marks (each titled with its count), not one per event.
 */
/** Rendered timelines by project (UTF-8), until the journal grows or half a minute passes. */
const timelineCache = new WeakMap<WebProject, { key: string; bytes: Uint8Array<ArrayBuffer> }>();
const utf8 = new TextEncoder();

/**
 * {@link TimelineSvg} as UTF-8, rendered once per journal growth (or 30 s) instead of on every
 * overview. At 100,000 events it is ~100 KB: kept as bytes and spliced into the page by
 * {@link overviewBytes}, so an overview request does not copy it into a page-sized string (two
 * bytes a character, since the page has non-Latin-1 text) and encode that again.
 */
function timelineBytes(project: WebProject): Uint8Array<ArrayBuffer> {
  const now = Date.now();
  const key = `${project.journal.size}:${Math.floor(now / 30_000)}`;
  const hit = timelineCache.get(project);
  if (hit?.key === key) return hit.bytes;
  const bytes = utf8.encode(String(<TimelineSvg project={project} now={now} />));
  timelineCache.set(project, { key, bytes });
  return bytes;
}

/** Where the timeline goes in the overview's HTML (a comment no escaped text can contain). */
const TIMELINE_SLOT = "<!--autosentry:timeline-->";

/** The timeline's place in the page; {@link overviewBytes} fills it. */
export function Timeline() {
  return raw(TIMELINE_SLOT);
}

/** The overview's HTML as UTF-8 with the project's cached timeline in its slot. */
export function overviewBytes(html: string, project: WebProject): Uint8Array<ArrayBuffer> {
  const at = html.indexOf(TIMELINE_SLOT);
  if (at === -1) return utf8.encode(html);
  const head = utf8.encode(html.slice(0, at));
  const tail = utf8.encode(html.slice(at + TIMELINE_SLOT.length));
  const svg = timelineBytes(project);
  const out = new Uint8Array(head.length + svg.length + tail.length);
  out.set(head, 0);
  out.set(svg, head.length);
  out.set(tail, head.length + svg.length);
  return out;
}

function TimelineSvg(props: { project: WebProject; now: number }) {
  const now = props.now;
  const W = 1000;
  const h = props.project.journal.histogram(
    LANES.map((l) => l[0]),
    now - 7 * 86_400_000,
    now,
    BINS,
  );
  if (h === null) return <p class="muted">No launches, incidents or restarts in the journal yet.</p>;
  const x = (b: number) => 90 + (b / BINS) * (W - 100);
  const iso = (t: number) => when(new Date(t).toISOString());
  const width = Math.max(2, (W - 100) / BINS - 1).toFixed(1);
  return (
    <svg class="timeline" viewBox={`0 0 ${W} 90`} preserveAspectRatio="none" role="img">
      <title>{`Launches, incidents and restarts from ${iso(h.t0)} to now (UTC)`}</title>
      {LANES.map(([, label, color], i) => (
        <g>
          <text x="4" y={22 + i * 25} font-size="12" fill="#5d6b78">
            {label}
          </text>
          {[...h.counts[i]!.entries()]
            .filter(([, n]) => n > 0)
            .map(([b, n]) => (
              <rect x={x(b).toFixed(1)} y={10 + i * 25} width={width} height="16" fill={color}>
                <title>{`${n} ${n === 1 ? label.slice(0, -1) : label} between ${iso(h.t0 + b * h.binMs)} and ${iso(h.t0 + (b + 1) * h.binMs)}`}</title>
              </rect>
            ))}
        </g>
      ))}
    </svg>
  );
}

export function StateCard(props: { project: WebProject; base: string; actions: boolean }) {
  const p = props.project;
  const { state, error } = p.state();
  const cfg = p.cfg.data;
  const now = Date.now();
  const alive = p.monitorAlive();
  if (error) return <p class="error">{`Cannot read state.json: ${error}`}</p>;
  if (!state)
    return (
      <dl class="kv">
        <dt>state</dt>
        <dd>autosentry has not run here yet (no state.json)</dd>
        <dt>command</dt>
        <dd>
          <code>{cfg.process.command.join(" ") || "-"}</code>
        </dd>
      </dl>
    );
  const phase =
    alive || ["completed", "gave_up", "aborted", "stopped", "detached"].includes(state.phase)
      ? state.phase
      : `${state.phase} (monitor not running)`;
  const cap = state.max_restarts > 0 ? String(state.max_restarts) : "∞";
  return (
    <dl class="kv">
      <dt>phase</dt>
      <dd>
        <Tag value={phase} />
        {state.desired === "paused" ? ` paused by ${state.paused_by ?? "?"} at ${when(state.paused_at)}` : ""}
      </dd>
      <dt>monitor</dt>
      <dd>
        {alive ? `running, pid ${state.monitor?.pid ?? "?"} on ${state.monitor?.host ?? "?"}` : "not running"}
      </dd>
      <dt>command</dt>
      <dd>
        <code>{cfg.process.command.join(" ") || (cfg.process.stages.length ? "(pipeline)" : "-")}</code>
      </dd>
      <dt>backend</dt>
      <dd>{cfg.process.kind}</dd>
      <dt>child</dt>
      <dd>
        {state.child_running
          ? `running, pid ${state.pid ?? "?"} (generation ${state.generation}), up ${state.child_started_at ? dur(now - Date.parse(state.child_started_at)) : "?"}`
          : state.child_dead_since
            ? `none since ${when(state.child_dead_since)}`
            : "none"}
      </dd>
      <dt>last exit</dt>
      <dd>
        {state.last_exit_code === null ? "-" : `${state.last_exit_code} (${state.last_exit_class ?? "?"})`}
      </dd>
      <dt>restarts</dt>
      <dd>{`${state.restarts} / ${cap} unverified, ${state.restarts_total} in all`}</dd>
      {state.next_restart_at ? (
        <>
          <dt>next restart</dt>
          <dd>{when(state.next_restart_at)}</dd>
        </>
      ) : null}
      {state.stop_reason ? (
        <>
          <dt>stop reason</dt>
          <dd>{state.stop_reason}</dd>
        </>
      ) : null}
      {Object.keys(state.env_overlay).length ? (
        <>
          <dt>env overrides</dt>
          <dd>
            <code>
              {Object.entries(state.env_overlay)
                .map(([k, v]) => `${k}=${v}`)
                .join(" ")}
            </code>
          </dd>
        </>
      ) : null}
      <dt>verifying</dt>
      <dd>
        {state.pending_verifications.length === 0
          ? "no fix inside its verification window"
          : state.pending_verifications.map((v) => (
              <div>
                <a href={`${props.base}/incidents/${encodeURIComponent(v.incident_id)}`}>{v.incident_id}</a>
                {` ${v.action} by ${v.ledger_source}, window closes ${when(v.deadline)}`}
              </div>
            ))}
      </dd>
      {state.paused_detectors?.length ? (
        <>
          <dt>healing paused for</dt>
          <dd>{state.paused_detectors.join(", ")}</dd>
        </>
      ) : null}
      <dt>heartbeat</dt>
      <dd>{when(state.last_heartbeat)}</dd>
    </dl>
  );
}

export function Actions(props: { base: string }) {
  return (
    <div class="actions">
      <a class="button quiet" href={`${props.base}/confirm/pause`}>
        Pause…
      </a>
      <a class="button quiet" href={`${props.base}/confirm/resume`}>
        Resume…
      </a>
      <a class="button quiet" href={`${props.base}/confirm/approve`}>
        Approve…
      </a>
      <a class="button danger" href={`${props.base}/confirm/abort`}>
        Abort…
      </a>
    </div>
  );
}

export function OverviewPage(props: { ctx: PageCtx; project: WebProject }) {
  const { ctx, project } = props;
  return (
    <Layout ctx={ctx} title="Overview" here="" topics={["state", "incident", "event"]}>
      <div id="live">
        <div class="grid">
          <section class="card">
            <h2>State</h2>
            <StateCard project={project} base={ctx.base} actions />
          </section>
          <section class="card">
            <h2>Operator</h2>
            <p class="muted">Each action asks for confirmation; it goes through the same inbox as the CLI.</p>
            <Actions base={ctx.base} />
          </section>
        </div>
        <section class="card">
          <h2>Timeline</h2>
          <Timeline />
        </section>
        <section>
          <h2>
            Newest incidents <span class="muted">({project.incidents.size} in all)</span>
          </h2>
          <IncidentTable base={ctx.base} items={project.incidents.newest(10)} />
          <p>
            <a href={`${ctx.base}/incidents`}>All incidents →</a>
          </p>
        </section>
      </div>
    </Layout>
  );
}
