/** @jsxImportSource hono/jsx */
/**
 * @module
 * The viewer's routes (hono). Pages and the JSON API read the in-memory indexes and the files of
 * each project; nothing here lists every incident folder. Single project: the pages live at `/`,
 * `/incidents`, … (the Python tool's routes); with `--root` the projects are listed at `/` and each
 * has the same pages under `/p/<slug>/`. Every response carries the security headers of auth.ts;
 * every POST is checked for the CSRF token; raw files and vault notes are confined to their store.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type Context, Hono } from "hono";
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import { readIncident } from "../incidents/read.ts";
import { OperateError, type OperatorVerb, operateOn } from "../project/operate.ts";
import appCss from "./assets/app.css" with { type: "text" };
import appJs from "./assets/app.js" with { type: "text" };
import type { AttemptsData } from "./attempts-data.ts";
import { type Guard, SECURITY_HEADERS } from "./auth.ts";
import { escapeHtml } from "./html.ts";
import type { IncidentQuery } from "./incident-index.ts";
import type { EventQuery } from "./journal-index.ts";
import type { LiveHub } from "./live.ts";
import { AttemptsPage } from "./pages/attempts.tsx";
import { ConfirmPage, MessagePage } from "./pages/confirm.tsx";
import { type EventParams, EventsPage } from "./pages/events.tsx";
import { IncidentPageView } from "./pages/incident.tsx";
import { type IncidentParams, IncidentsPage } from "./pages/incidents.tsx";
import type { PageCtx } from "./pages/layout.tsx";
import { OverviewPage, overviewBytes } from "./pages/overview.tsx";
import { PipelinePage } from "./pages/pipeline.tsx";
import { ProjectsPage } from "./pages/projects.tsx";
import { VaultIndexPage, VaultNotePage } from "./pages/vault.tsx";
import type { WebProject } from "./project.ts";
import { isPlainRelative, readInside, resolveInside } from "./safe-path.ts";
import { parseTimeBound } from "./time-bound.ts";

export const API_SCHEMA_VERSION = 1;

export interface AppOptions {
  projects: WebProject[];
  /** `--root`: the folder searched, shown on the projects page; null for a single project. */
  root: string | null;
  /** Problems met while discovering projects (shown on the projects page). */
  errors: string[];
  guard: Guard;
  hub: LiveHub;
}

const ASSETS: Record<string, [string, string]> = {
  "/assets/app.js": [appJs, "text/javascript; charset=utf-8"],
  "/assets/app.css": [appCss, "text/css; charset=utf-8"],
  "/assets/uplot.js": [uplotJs, "text/javascript; charset=utf-8"],
  "/assets/uplot.css": [uplotCss, "text/css; charset=utf-8"],
};

const VERBS = new Set<string>(["pause", "resume", "abort", "approve"]);

const TEXT_EXT = new Set([
  ".txt",
  ".log",
  ".md",
  ".yaml",
  ".yml",
  ".patch",
  ".diff",
  ".py",
  ".js",
  ".mjs",
  ".cjs",
  ".ts",
  ".tsx",
  ".go",
  ".rs",
  ".java",
  ".toml",
  ".ini",
  ".cfg",
  ".sh",
  ".csv",
  ".tsv",
]);

/** Content type of a raw incident file: JSON, text, or bytes to download (never HTML). */
function rawType(file: string): { type: string; attachment: boolean } {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".json" || ext === ".jsonl")
    return { type: "application/json; charset=utf-8", attachment: false };
  if (TEXT_EXT.has(ext) || ext === "") return { type: "text/plain; charset=utf-8", attachment: false };
  return { type: "application/octet-stream", attachment: true };
}

function intParam(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : dflt;
}

/**
 * The Markdown renderer (markdown-it, the highlighter and its queries), loaded when a page first
 * renders Markdown: a viewer that only lists incidents never evaluates it.
 */
let markdownModule: Promise<typeof import("./markdown.ts")> | null = null;
const markdown = () => {
  markdownModule ??= import("./markdown.ts");
  return markdownModule;
};

/** Build the hono app; see the module comment. */
export function buildApp(opts: AppOptions): Hono {
  const { projects, guard, hub } = opts;
  const multi = opts.root !== null;
  const bySlug = new Map(projects.map((p) => [p.slug, p]));
  const busy = new Set<string>();
  const app = new Hono();

  app.use("*", async (c, next) => {
    if (!guard.hostAllowed(c.req.header("host"))) {
      return c.text("Refused: this viewer answers only to a loopback host name\n", 421);
    }
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
    if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
  });

  app.get("/healthz", (c) => c.text("ok\n"));
  // Browsers ask for it on every page; an empty answer keeps a 404 out of their consoles.
  app.get("/favicon.ico", (c) => c.body(null, 204));

  app.get("/login", (c) => {
    const cookie = guard.redeem(c.req.query("once") ?? "");
    if (!cookie) return c.text("This login link is unknown, used or expired.\n", 403);
    c.header("Set-Cookie", cookie);
    return c.redirect("/", 303);
  });

  app.use("*", async (c, next) => {
    if (!guard.authenticated(c.req.raw.headers)) {
      return c.text(
        "Unauthorized: send Authorization: Bearer <token> or open the one-time login link printed by `autosentry web`\n",
        401,
      );
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      if (c.req.method !== "POST") return c.text("Method not allowed\n", 405);
      const ct = c.req.header("content-type") ?? "";
      let formToken: string | null = null;
      if (ct.startsWith("application/x-www-form-urlencoded") || ct.startsWith("multipart/form-data")) {
        const body = await c.req.parseBody();
        formToken = typeof body._csrf === "string" ? body._csrf : null;
      }
      const self = new URL(c.req.url).origin;
      if (!guard.csrfValid(c.req.raw.headers, formToken, self)) {
        return c.text("Forbidden: missing or wrong CSRF token\n", 403);
      }
    }
    await next();
  });

  for (const [p, [body, type]] of Object.entries(ASSETS)) {
    app.get(p, (c) => {
      c.header("Content-Type", type);
      c.header("Cache-Control", "public, max-age=300");
      return c.body(body);
    });
  }

  const ctxFor = (project: WebProject | null): PageCtx => ({
    base: project && multi ? `/p/${project.slug}` : "",
    project,
    multi,
    csrf: guard.csrf,
  });

  const html = (c: Context, node: unknown, status = 200) =>
    c.html(`<!doctype html>${String(node)}`, status as 200);

  const notFound = (c: Context, what: string, project: WebProject | null = null) =>
    html(c, <MessagePage ctx={ctxFor(project)} title="Not found" message={what} ok={false} />, 404);

  /** The project of a request: `/p/<slug>/…`, or the only one. */
  const projectOf = (c: Context): WebProject | null => {
    const slug = c.req.param("project");
    if (slug !== undefined) return bySlug.get(slug) ?? null;
    return multi ? null : (projects[0] ?? null);
  };

  // ----- pages and API, per project
  for (const base of ["", "/p/:project"]) {
    const route = (suffix: string) => `${base}${suffix}` || "/";

    app.get(route(""), (c) => {
      const p = projectOf(c);
      if (!p) {
        if (base === "" && multi)
          return html(
            c,
            <ProjectsPage ctx={ctxFor(null)} projects={projects} errors={opts.errors} root={opts.root!} />,
          );
        return notFound(c, "No such project.");
      }
      const page = `<!doctype html>${String(<OverviewPage ctx={ctxFor(p)} project={p} />)}`;
      return c.body(overviewBytes(page, p), 200, { "Content-Type": "text/html; charset=UTF-8" });
    });

    const incidentQuery = (
      c: Context,
    ): { q: IncidentQuery; params: IncidentParams; error: string | null } => {
      const g = (k: string) => c.req.query(k) || undefined;
      const params: IncidentParams = {
        detector: g("detector"),
        kind: g("kind"),
        group: g("group"),
        since: g("since"),
        until: g("until"),
        q: g("q"),
        view: g("view"),
        per_page: g("per_page"),
      };
      let since: number | null = null;
      let until: number | null = null;
      let error: string | null = null;
      try {
        since = parseTimeBound("since", params.since);
        until = parseTimeBound("until", params.until);
      } catch (err) {
        error = (err as Error).message;
      }
      return {
        q: {
          detector: params.detector,
          kind: params.kind,
          group: params.group,
          since,
          until,
          q: params.q,
          page: intParam(c.req.query("page"), 1),
          perPage: intParam(c.req.query("per_page"), 50),
        },
        params,
        error,
      };
    };

    const groupedPage = (p: WebProject, q: IncidentQuery) => {
      const all = p.incidents.groups(q);
      const perPage = q.perPage ?? 50;
      const pages = Math.max(1, Math.ceil(all.total / perPage));
      const page = Math.min(pages, q.page ?? 1);
      return {
        total: all.total,
        page,
        pages,
        groups: all.groups.slice((page - 1) * perPage, page * perPage),
      };
    };

    app.get(route("/incidents"), (c) => {
      const p = projectOf(c);
      if (!p) return multi && base === "" ? c.redirect("/", 302) : notFound(c, "No such project.");
      const { q, params, error } = incidentQuery(c);
      const grouped = params.view === "grouped";
      return html(
        c,
        <IncidentsPage
          ctx={ctxFor(p)}
          project={p}
          params={params}
          error={error}
          {...(grouped ? { groups: groupedPage(p, q) } : { page: p.incidents.query(q) })}
        />,
        error ? 400 : 200,
      );
    });

    app.get(route("/api/incidents"), (c) => {
      const p = projectOf(c);
      if (!p) return c.json({ schema_version: API_SCHEMA_VERSION, error: "no such project" }, 404);
      const { q, params, error } = incidentQuery(c);
      if (error) return c.json({ schema_version: API_SCHEMA_VERSION, error }, 400);
      if (params.view === "grouped") {
        const g = groupedPage(p, q);
        return c.json({ schema_version: API_SCHEMA_VERSION, project: p.slug, per_page: q.perPage, ...g });
      }
      return c.json({ schema_version: API_SCHEMA_VERSION, project: p.slug, ...p.incidents.query(q) });
    });

    const incidentLookup = (c: Context) => {
      const p = projectOf(c);
      if (!p) return { p: null, got: null } as const;
      const id = c.req.param("id") ?? "";
      return { p, id, got: readIncident(p.incidentsDir, id, (i) => p.incidents.get(i)) } as const;
    };

    app.get(route("/api/incidents/:id"), (c) => {
      const { p, got } = incidentLookup(c);
      if (!p || !got) return c.json({ schema_version: API_SCHEMA_VERSION, error: "no such project" }, 404);
      if (!got.ok)
        return c.json(
          { schema_version: API_SCHEMA_VERSION, error: got.error },
          got.error === "invalid_id" ? 400 : 404,
        );
      const inc = got.incident;
      return c.json({
        schema_version: API_SCHEMA_VERSION,
        project: p.slug,
        id: inc.id,
        entry: p.incidents.get(inc.id) ?? inc.entry,
        record: inc.record,
        files: inc.files,
        report: inc.report,
      });
    });

    app.get(route("/incidents/:id"), async (c) => {
      const { p, id, got } = incidentLookup(c);
      if (!p || !got) return notFound(c, "No such project.");
      if (!got.ok)
        return html(
          c,
          <MessagePage
            ctx={ctxFor(p)}
            title="Not found"
            message={got.error === "invalid_id" ? "That is not an incident id." : `No incident ${id}.`}
            ok={false}
          />,
          got.error === "invalid_id" ? 400 : 404,
        );
      const inc = got.incident;
      const ctx = ctxFor(p);
      const dir = inc.dir;
      const read = (rel: string) => (inc.files.includes(rel) ? readInside(dir, rel) : null);
      const link = (href: string): string | null => {
        const clean = href.replace(/^\.\//, "").split(/[?#]/)[0]!;
        const other = /^\.\.\/([A-Za-z0-9._:-]+)\/report\.md$/.exec(clean);
        if (other) return `${ctx.base}/incidents/${encodeURIComponent(other[1]!)}`;
        return isPlainRelative(clean)
          ? `${ctx.base}/incidents/${encodeURIComponent(inc.id)}/raw/${clean}`
          : null;
      };
      const entry = p.incidents.get(inc.id) ?? inc.entry;
      const reply = read("fix/claude_response.md");
      const { renderMarkdown } = await markdown();
      return html(
        c,
        <IncidentPageView
          ctx={ctx}
          data={{
            id: inc.id,
            entry,
            reportHtml: inc.report === null ? null : await renderMarkdown(inc.report, { link }),
            trace: read("trace.txt"),
            logExcerpt: read("log_excerpt.txt"),
            configs: inc.files
              .filter((f) => f.startsWith("configs/"))
              .map((f) => ({ name: f, text: read(f) })),
            agentReplyHtml: reply === null ? null : await renderMarkdown(reply, { link }),
            diff: read("fix/diff.patch"),
            files: inc.files,
            groupSize: entry ? p.incidents.groupSize(entry) : 0,
            earlier: entry ? p.incidents.earlier(entry) : [],
          }}
        />,
      );
    });

    app.get(route("/incidents/:id/raw/*"), (c) => {
      const { p, got } = incidentLookup(c);
      if (!p || !got) return c.text("No such project\n", 404);
      if (!got.ok)
        return c.text(
          got.error === "invalid_id" ? "Invalid incident id\n" : "No such incident\n",
          got.error === "invalid_id" ? 400 : 404,
        );
      const pathname = new URL(c.req.url).pathname;
      const at = pathname.indexOf("/raw/", pathname.indexOf("/incidents/"));
      let rel: string;
      try {
        rel = pathname
          .slice(at + "/raw/".length)
          .split("/")
          .map((s) => decodeURIComponent(s))
          .join("/");
      } catch {
        return c.text("Invalid path\n", 400);
      }
      const r = resolveInside(got.incident.dir, rel);
      if (!r.ok) {
        const status = r.why === "not_found" ? 404 : 403;
        return c.text(
          r.why === "not_found" ? "No such file\n" : "Refused: the path leaves the incident folder\n",
          status,
        );
      }
      const t = rawType(r.file);
      c.header("Content-Type", t.type);
      c.header("Content-Security-Policy", "sandbox; default-src 'none'");
      if (t.attachment)
        c.header(
          "Content-Disposition",
          `attachment; filename="${path.basename(r.file).replace(/[^A-Za-z0-9._-]/g, "_")}"`,
        );
      return c.body(fs.readFileSync(r.file));
    });

    app.get(route("/attempts"), (c) => {
      const p = projectOf(c);
      if (!p) return notFound(c, "No such project.");
      const since = c.req.query("since") ?? "";
      let data: AttemptsData;
      let error: string | null = null;
      try {
        data = p.attemptsData(since || null);
      } catch (err) {
        error = (err as Error).message;
        data = p.attemptsData(null);
      }
      return html(
        c,
        <AttemptsPage
          ctx={ctxFor(p)}
          summary={data.summary}
          recent={data.recent.slice(0, 50)}
          since={since}
          error={error}
        />,
        error ? 400 : 200,
      );
    });

    app.get(route("/api/attempts"), (c) => {
      const p = projectOf(c);
      if (!p) return c.json({ schema_version: API_SCHEMA_VERSION, error: "no such project" }, 404);
      try {
        return c.json({ project: p.slug, ...p.attemptsData(c.req.query("since") || null) });
      } catch (err) {
        return c.json({ schema_version: API_SCHEMA_VERSION, error: (err as Error).message }, 400);
      }
    });

    const eventQuery = (c: Context): { q: EventQuery; params: EventParams; error: string | null } => {
      const g = (k: string) => c.req.query(k) || undefined;
      const params: EventParams = {
        kind: g("kind"),
        since: g("since"),
        until: g("until"),
        incident: g("incident"),
        q: g("q"),
      };
      let error: string | null = null;
      let since: number | null = null;
      let until: number | null = null;
      try {
        since = parseTimeBound("since", params.since);
        until = parseTimeBound("until", params.until);
      } catch (err) {
        error = (err as Error).message;
      }
      return {
        q: {
          kinds: params.kind ? params.kind.split(",") : undefined,
          since,
          until,
          incident: params.incident,
          q: params.q,
          page: intParam(c.req.query("page"), 1),
          perPage: intParam(c.req.query("per_page"), 100),
        },
        params,
        error,
      };
    };

    app.get(route("/events"), (c) => {
      const p = projectOf(c);
      if (!p) return notFound(c, "No such project.");
      const { q, params, error } = eventQuery(c);
      return html(
        c,
        <EventsPage
          ctx={ctxFor(p)}
          page={p.journal.query(q)}
          kinds={p.journal.kindList()}
          params={params}
          error={error}
        />,
        error ? 400 : 200,
      );
    });

    app.get(route("/api/events"), (c) => {
      const p = projectOf(c);
      if (!p) return c.json({ schema_version: API_SCHEMA_VERSION, error: "no such project" }, 404);
      const { q, error } = eventQuery(c);
      if (error) return c.json({ schema_version: API_SCHEMA_VERSION, error }, 400);
      return c.json({ schema_version: API_SCHEMA_VERSION, project: p.slug, ...p.journal.query(q) });
    });

    app.get(route("/pipeline"), (c) => {
      const p = projectOf(c);
      if (!p) return notFound(c, "No such project.");
      return html(c, <PipelinePage ctx={ctxFor(p)} report={p.pipeline()} />);
    });

    app.get(route("/api/status"), (c) => {
      const p = projectOf(c);
      if (!p) {
        if (base === "" && multi)
          return c.json({
            schema_version: API_SCHEMA_VERSION,
            projects: projects.map((x) => ({ slug: x.slug, name: x.name, root: x.root, status: x.status() })),
          });
        return c.json({ schema_version: API_SCHEMA_VERSION, error: "no such project" }, 404);
      }
      return c.json(p.status());
    });

    app.get(route("/vault"), (c) => {
      const p = projectOf(c);
      if (!p) return notFound(c, "No such project.");
      return html(
        c,
        <VaultIndexPage
          ctx={ctxFor(p)}
          sections={vaultSections(p.vaultDir)}
          enabled={p.cfg.data.vault.enabled}
        />,
      );
    });

    app.get(route("/vault/*"), async (c) => {
      const p = projectOf(c);
      if (!p) return notFound(c, "No such project.");
      const ctx = ctxFor(p);
      const pathname = new URL(c.req.url).pathname;
      let note: string;
      try {
        note = pathname
          .slice(pathname.indexOf("/vault/") + "/vault/".length)
          .split("/")
          .map((s) => decodeURIComponent(s))
          .join("/")
          .replace(/\.md$/, "");
      } catch {
        return notFound(c, "No such note.", p);
      }
      const text = isPlainRelative(note) ? readInside(p.vaultDir, `${note}.md`) : null;
      if (text === null) return notFound(c, `No note ${note} in the vault.`, p);
      const exists = (target: string) => resolveInside(p.vaultDir, `${target}.md`).ok;
      const noteUrl = (target: string) =>
        `${ctx.base}/vault/${target.split("/").map(encodeURIComponent).join("/")}`;
      const { renderMarkdown, stripFrontMatter } = await markdown();
      const noteHtml = await renderMarkdown(stripFrontMatter(text), {
        wikilink: (target) => {
          const t = target.split("#")[0]!.replace(/\.md$/, "");
          return isPlainRelative(t) && exists(t) ? noteUrl(t) : null;
        },
        link: (href) => {
          if (href.startsWith(`${ctx.base}/vault/`)) return href;
          const clean = href.split(/[?#]/)[0]!.replace(/\.md$/, "");
          const joined = path.posix.normalize(path.posix.join(path.posix.dirname(note), clean));
          return isPlainRelative(joined) && exists(joined) ? noteUrl(joined) : null;
        },
      });
      return html(c, <VaultNotePage ctx={ctx} note={note} html={noteHtml} />);
    });

    app.get(route("/confirm/:verb"), (c) => {
      const p = projectOf(c);
      const verb = c.req.param("verb") ?? "";
      if (!p || !VERBS.has(verb)) return notFound(c, "No such action.", p);
      return html(c, <ConfirmPage ctx={ctxFor(p)} verb={verb} detectors={p.incidents.facets().detectors} />);
    });

    app.post(route("/actions/:verb"), async (c) => {
      const p = projectOf(c);
      const verb = c.req.param("verb") ?? "";
      if (!p || !VERBS.has(verb)) return notFound(c, "No such action.", p);
      const body = await c.req.parseBody();
      const reason = typeof body.reason === "string" && body.reason.trim() ? body.reason.trim() : "";
      const detector = typeof body.detector === "string" && body.detector ? body.detector : null;
      if (busy.has(p.slug)) {
        return html(
          c,
          <MessagePage
            ctx={ctxFor(p)}
            title="Busy"
            message="Another action is still being applied; try again."
            ok={false}
          />,
          409,
        );
      }
      busy.add(p.slug);
      let out = "";
      let ok = true;
      try {
        await operateOn(
          p.cfg,
          verb as OperatorVerb,
          { reason: `${reason ? `${reason} ` : ""}(from autosentry web)`, wait: true },
          detector,
          (t) => {
            out += t;
          },
        );
      } catch (err) {
        ok = false;
        out = err instanceof OperateError ? err.message : `autosentry ${verb}: ${(err as Error).message}`;
      } finally {
        busy.delete(p.slug);
      }
      const accept = c.req.header("accept") ?? "";
      if (accept.includes("application/json"))
        return c.json({ schema_version: API_SCHEMA_VERSION, ok, message: out.trim() }, ok ? 200 : 500);
      return html(
        c,
        <MessagePage
          ctx={ctxFor(p)}
          title={ok ? `${verb}: done` : `${verb}: failed`}
          message={out.trim()}
          ok={ok}
        />,
        ok ? 200 : 500,
      );
    });
  }

  app.get("/api/projects", (c) =>
    c.json({
      schema_version: API_SCHEMA_VERSION,
      projects: projects.map((p) => ({
        slug: p.slug,
        name: p.name,
        root: p.root,
        phase: p.state().state?.phase ?? null,
        incidents: p.incidents.size,
        newest_incident: p.incidents.newest(1)[0] ?? null,
      })),
    }),
  );

  app.get("/api/stream", (c) => {
    const want = c.req.query("project") || null;
    if (want !== null && !bySlug.has(want)) return c.text("No such project\n", 404);
    const enc = new TextEncoder();
    let unsubscribe = () => {};
    let keepAlive: ReturnType<typeof setInterval> | null = null;
    const close = () => {
      unsubscribe();
      if (keepAlive) clearInterval(keepAlive);
    };
    const stream = new ReadableStream<Uint8Array>({
      start(ctrl) {
        const send = (s: string) => {
          try {
            ctrl.enqueue(enc.encode(s));
          } catch {
            close();
          }
        };
        send("retry: 2000\n: connected\n\n");
        unsubscribe = hub.subscribe(want, (m) => {
          send(
            `event: ${m.topic}\ndata: ${JSON.stringify({ schema_version: API_SCHEMA_VERSION, ...m })}\n\n`,
          );
        });
        keepAlive = setInterval(() => send(": keep-alive\n\n"), 15_000);
        c.req.raw.signal.addEventListener("abort", close);
      },
      cancel: close,
    });
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    });
  });

  app.notFound((c) =>
    html(c, <MessagePage ctx={ctxFor(null)} title="Not found" message="No such page." ok={false} />, 404),
  );
  app.onError((err, c) => {
    process.stderr.write(`autosentry web: ${c.req.method} ${new URL(c.req.url).pathname}: ${err.message}\n`);
    return c.text(`Internal error: ${escapeHtml(err.message)}\n`, 500);
  });
  return app;
}

/** Notes of the vault by section (top folder), paths without `.md`; links are not followed. */
export function vaultSections(vaultDir: string): Array<[string, string[]]> {
  const sections = new Map<string, string[]>();
  const walk = (rel: string, depth: number): void => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(path.join(vaultDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && depth < 4 && !e.name.startsWith(".")) walk(r, depth + 1);
      else if (e.isFile() && e.name.endsWith(".md")) {
        const section = rel.split("/")[0] ?? "";
        const list = sections.get(section) ?? [];
        list.push(r.slice(0, -3));
        sections.set(section, list);
      }
    }
  };
  walk("", 0);
  return [...sections.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, notes]) => [s, notes.sort()] as [string, string[]]);
}
