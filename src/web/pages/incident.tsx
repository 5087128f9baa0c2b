/** @jsxImportSource hono/jsx */
/**
 * @module
 * One incident: report.md rendered (its source frames highlighted by tree-sitter), the trace, the
 * log excerpt, config snapshots, the agent's reply, the fix as a readable diff, the files of the
 * folder, and links to its failure group and earlier occurrences. File contents are text: the
 * JSX escapes them, and Markdown is rendered with raw HTML disabled.
 */
import { raw } from "hono/html";
import type { IndexEntry } from "../../incidents/types.ts";
import { groupParam } from "../incident-index.ts";
import { withQuery } from "../url.ts";
import { Layout, type PageCtx, when } from "./layout.tsx";

export interface IncidentData {
  id: string;
  entry: IndexEntry | null;
  reportHtml: string | null;
  trace: string | null;
  logExcerpt: string | null;
  configs: Array<{ name: string; text: string | null }>;
  agentReplyHtml: string | null;
  diff: string | null;
  files: string[];
  groupSize: number;
  earlier: IndexEntry[];
}

/** A unified diff as lines classed by their role (added, removed, hunk, file header). */
export function Diff(props: { text: string }) {
  const lines = props.text.replace(/\n$/, "").split("\n");
  return (
    <pre class="diff">
      <code>
        {lines.map((l) => {
          const cls =
            l.startsWith("+++") || l.startsWith("---") || l.startsWith("diff ") || l.startsWith("index ")
              ? "meta"
              : l.startsWith("@@")
                ? "hunk"
                : l.startsWith("+")
                  ? "add"
                  : l.startsWith("-")
                    ? "del"
                    : "";
          return cls ? <span class={cls}>{l}</span> : <span>{`${l}\n`}</span>;
        })}
      </code>
    </pre>
  );
}

export function IncidentPageView(props: { ctx: PageCtx; data: IncidentData }) {
  const { ctx, data } = props;
  const e = data.entry;
  const base = `${ctx.base}/incidents/${encodeURIComponent(data.id)}`;
  return (
    <Layout ctx={ctx} title={`Incident ${data.id}`} here="/incidents" topics={["incident"]}>
      <div id="live">
        <section class="card">
          <dl class="kv">
            <dt>time</dt>
            <dd>{when(e?.time)}</dd>
            <dt>kind</dt>
            <dd>{e?.kind ?? "-"}</dd>
            <dt>detector</dt>
            <dd>{e?.detector ?? "-"}</dd>
            <dt>message</dt>
            <dd>{e?.message ?? "-"}</dd>
            <dt>outcome</dt>
            <dd>{e ? `${e.rule ?? "-"} → ${e.action ?? "-"}` : "-"}</dd>
            <dt>failure group</dt>
            <dd>
              {e ? (
                <a href={withQuery(`${ctx.base}/incidents`, { group: groupParam(e) })}>
                  {`${data.groupSize} incident${data.groupSize === 1 ? "" : "s"} of this failure`}
                </a>
              ) : (
                "-"
              )}
            </dd>
            <dt>earlier occurrences</dt>
            <dd>
              {data.earlier.length === 0
                ? "none"
                : data.earlier.map((x) => (
                    <div>
                      <a href={`${ctx.base}/incidents/${encodeURIComponent(x.id)}`}>{x.id}</a>
                      {` ${when(x.time)}`}
                    </div>
                  ))}
            </dd>
          </dl>
        </section>
        <section class="card markdown" id="report">
          <h2>Report</h2>
          {data.reportHtml === null ? <p class="muted">report.md is missing.</p> : raw(data.reportHtml)}
        </section>
        {data.trace !== null ? (
          <section class="card" id="trace">
            <h2>Trace</h2>
            <pre class="log">{data.trace}</pre>
          </section>
        ) : null}
        {data.logExcerpt !== null ? (
          <section class="card" id="log-excerpt">
            <h2>Log excerpt</h2>
            <pre class="log">{data.logExcerpt}</pre>
          </section>
        ) : null}
        {data.configs.length ? (
          <section class="card" id="configs">
            <h2>Config snapshots</h2>
            {data.configs.map((c) => (
              <>
                <h3>
                  <a href={`${base}/raw/${c.name}`}>{c.name}</a>
                </h3>
                {c.text === null ? <p class="muted">not readable</p> : <pre>{c.text}</pre>}
              </>
            ))}
          </section>
        ) : null}
        {data.agentReplyHtml !== null ? (
          <section class="card markdown" id="agent-reply">
            <h2>Agent reply</h2>
            {raw(data.agentReplyHtml)}
          </section>
        ) : null}
        {data.diff !== null ? (
          <section class="card" id="diff">
            <h2>Fix (diff.patch)</h2>
            <Diff text={data.diff} />
          </section>
        ) : null}
        <section class="card" id="files">
          <h2>Files</h2>
          <ul>
            {data.files.map((f) => (
              <li>
                <a href={`${base}/raw/${f.split("/").map(encodeURIComponent).join("/")}`}>{f}</a>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </Layout>
  );
}
