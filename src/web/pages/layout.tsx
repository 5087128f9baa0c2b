/** @jsxImportSource hono/jsx */
/**
 * @module
 * The frame of every page: header with the project's navigation and the live indicator, the CSRF
 * token for the script, and `#live`, the part the script re-renders when the files change.
 */
import type { Child } from "hono/jsx";
import type { WebProject } from "../project.ts";

/** What every page needs to know about where it is. */
export interface PageCtx {
  /** URL prefix of the project's pages: "" (single project) or `/p/<slug>`. */
  base: string;
  project: WebProject | null;
  /** More than one project (`--root`). */
  multi: boolean;
  csrf: string;
}

export const NAV: Array<[string, string]> = [
  ["", "Overview"],
  ["/incidents", "Incidents"],
  ["/attempts", "Attempts"],
  ["/events", "Events"],
  ["/pipeline", "Pipeline"],
  ["/vault", "Vault"],
];

/** `2026-11-22 03:04:05` (UTC) from an ISO time; `-` for none. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "-";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().slice(0, 19).replace("T", " ");
}

/** `3m 5s` style duration (the CLI's and the TUI's, src/util/durations.ts). */
export { humanDuration as dur } from "../../util/durations.ts";

export function Layout(props: {
  ctx: PageCtx;
  title: string;
  /** Path after the base of the page shown (for the navigation's highlight). */
  here: string;
  /** Live topics that re-render `#live` (empty: the page is static). */
  topics: string[];
  scripts?: string[];
  children: Child;
}) {
  const { ctx } = props;
  const p = ctx.project;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="csrf-token" content={ctx.csrf} />
        <title>{`${props.title} · ${p ? p.name : "projects"} · autosentry`}</title>
        <link rel="stylesheet" href="/assets/app.css" />
        {(props.scripts ?? []).includes("uplot") ? <link rel="stylesheet" href="/assets/uplot.css" /> : null}
        {(props.scripts ?? []).includes("uplot") ? <script src="/assets/uplot.js" defer></script> : null}
        <script src="/assets/app.js" defer></script>
      </head>
      <body data-project={p?.slug ?? ""} data-topics={props.topics.join(" ")} data-page={props.here || "/"}>
        <header class="top">
          <a class="brand" href="/">
            autosentry
          </a>
          {ctx.multi ? <a href="/">all projects</a> : null}
          {p ? <span>{p.name}</span> : null}
          {p ? (
            <nav>
              {NAV.map(([path, label]) => (
                <a href={`${ctx.base}${path}` || "/"} class={props.here === path ? "here" : ""}>
                  {label}
                </a>
              ))}
            </nav>
          ) : null}
          <span id="live-status" class="live">
            {props.topics.length ? "connecting…" : "static"}
          </span>
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A phase or status as a coloured tag. */
export function Tag(props: { value: string | null | undefined; prefix?: string }) {
  const v = props.value ?? "-";
  return <span class={`tag ${props.prefix ?? "phase"}-${v.replace(/[^a-z_]/gi, "")}`}>{v}</span>;
}
