/**
 * @module
 * A loopback stand-in for the parts of GitHub that releases touch, speaking their real HTTP shapes
 * (REST API v3 JSON, the upload host, and the web download URLs with their redirects), plus a
 * static mirror of a release directory with fault injection for the installer tests:
 *
 * | request | what GitHub does |
 * |---|---|
 * | `GET /repos/{o}/{r}/releases/latest` | newest published, non-prerelease release (404 if none) |
 * | `GET /repos/{o}/{r}/releases` | all releases, newest first (drafts only with a token) |
 * | `GET /repos/{o}/{r}/releases/tags/{tag}` | a published release by tag (drafts are 404) |
 * | `POST /repos/{o}/{r}/releases` | create (201); `upload_url` points at the upload host |
 * | `PATCH /repos/{o}/{r}/releases/{id}` | update (`draft: false` publishes) |
 * | `GET /repos/{o}/{r}/releases/{id}/assets` | the assets |
 * | `DELETE /repos/{o}/{r}/releases/assets/{id}` | 204 |
 * | `POST /uploads/repos/{o}/{r}/releases/{id}/assets?name=` | upload (201), 422 if the name exists |
 * | `GET /{o}/{r}/releases/download/{tag}/{name}` | the asset's bytes |
 * | `GET /{o}/{r}/releases/latest/download/{name}` | 302 to the latest release's asset |
 * | `GET /mirror/{path}` | a file of `mirrorDir` (not GitHub: a plain static server) |
 *
 * Writes need `Authorization: token|Bearer <token>` equal to the fake's token.
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface Asset {
  id: number;
  name: string;
  data: Uint8Array;
}

interface Release {
  id: number;
  tag_name: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  target_commitish: string;
  created_at: string;
  assets: Asset[];
}

export type Fault = "404" | "truncate" | "corrupt";

export interface FakeGithub {
  url: string;
  /** Web base for install.sh's AUTOSENTRY_GITHUB_URL (the same server). */
  webUrl: string;
  /** API base for @octokit/rest (`baseUrl`). */
  apiUrl: string;
  token: string;
  releases: Release[];
  /** Requests seen, `METHOD path`. */
  log: string[];
  /** Faults by path suffix (e.g. `autosentry-linux-x64.tar.gz`), for the mirror and downloads. */
  faults: Map<string, Fault>;
  stop(): void;
}

function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function notFound(): Response {
  return json(
    { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" },
    404,
  );
}

function faulty(bytes: Uint8Array, fault: Fault | undefined): Response {
  if (fault === "404") return new Response("Not Found", { status: 404 });
  if (fault === "truncate") return new Response(bytes.slice(0, Math.floor(bytes.length / 2)));
  if (fault === "corrupt") {
    const copy = bytes.slice();
    const i = Math.floor(copy.length / 3);
    copy[i] = (copy[i] ?? 0) ^ 0xff;
    return new Response(copy);
  }
  return new Response(bytes, { headers: { "content-type": "application/octet-stream" } });
}

/** Start the fake on a random loopback port. `mirrorDir` is served under `/mirror/`. */
export function startFakeGithub(opts: {
  owner: string;
  repo: string;
  token: string;
  mirrorDir?: string;
  /** GitHub Enterprise Server shapes: the API under `/api/v3`, uploads under `/api/uploads`. */
  enterprise?: boolean;
}): FakeGithub {
  const releases: Release[] = [];
  const log: string[] = [];
  const faults = new Map<string, Fault>();
  let nextId = 1;
  const full = `${opts.owner}/${opts.repo}`;
  let base = "";

  const assetJson = (r: Release, a: Asset) => ({
    url: `${base}${opts.enterprise ? "/api/v3" : ""}/repos/${full}/releases/assets/${a.id}`,
    id: a.id,
    node_id: `RA_${a.id}`,
    name: a.name,
    label: null,
    content_type: "application/octet-stream",
    state: "uploaded",
    size: a.data.length,
    download_count: 0,
    created_at: r.created_at,
    updated_at: r.created_at,
    browser_download_url: `${base}/${full}/releases/download/${r.tag_name}/${a.name}`,
    uploader: { login: "release-bot", id: 1, type: "User" },
  });
  const releaseJson = (r: Release) => ({
    url: `${base}${opts.enterprise ? "/api/v3" : ""}/repos/${full}/releases/${r.id}`,
    html_url: `${base}/${full}/releases/tag/${r.tag_name}`,
    assets_url: `${base}/repos/${full}/releases/${r.id}/assets`,
    upload_url: `${base}${opts.enterprise ? "/api/uploads" : "/uploads"}/repos/${full}/releases/${r.id}/assets{?name,label}`,
    tarball_url: `${base}/repos/${full}/tarball/${r.tag_name}`,
    zipball_url: `${base}/repos/${full}/zipball/${r.tag_name}`,
    id: r.id,
    node_id: `RE_${r.id}`,
    tag_name: r.tag_name,
    target_commitish: r.target_commitish,
    name: r.name,
    body: r.body,
    draft: r.draft,
    prerelease: r.prerelease,
    created_at: r.created_at,
    published_at: r.draft ? null : r.created_at,
    author: { login: "release-bot", id: 1, type: "User" },
    assets: r.assets.map((a) => assetJson(r, a)),
  });
  const published = () => releases.filter((r) => !r.draft);
  const latest = () =>
    published()
      .filter((r) => !r.prerelease)
      .at(-1);

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const u = new URL(req.url);
      const raw = decodeURIComponent(u.pathname);
      // GitHub Enterprise serves the API under /api/v3 and uploads under /api/uploads; github.com
      // under api.github.com and uploads.github.com (here: the root and /uploads).
      let p = raw;
      if (opts.enterprise) {
        if (raw.startsWith("/api/v3/")) p = raw.slice("/api/v3".length);
        else if (raw.startsWith("/api/uploads/")) p = `/uploads/${raw.slice("/api/uploads/".length)}`;
        else if (raw.startsWith("/repos/") || raw.startsWith("/uploads/")) p = "/not-on-enterprise";
      }
      log.push(`${req.method} ${p}`);
      const auth = req.headers.get("authorization") ?? "";
      const authed = auth === `token ${opts.token}` || auth === `Bearer ${opts.token}`;
      const fault = [...faults].find(([k]) => p.endsWith(`/${k}`))?.[1];

      if (p.startsWith("/mirror/") && opts.mirrorDir) {
        const file = path.join(opts.mirrorDir, p.slice("/mirror/".length));
        if (!file.startsWith(opts.mirrorDir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
          return new Response("Not Found", { status: 404 });
        }
        return faulty(fs.readFileSync(file), fault);
      }
      const api = `/repos/${full}/releases`;
      const mTag = new RegExp(`^${api}/tags/(.+)$`).exec(p);
      const mRel = new RegExp(`^${api}/(\\d+)$`).exec(p);
      const mAssets = new RegExp(`^${api}/(\\d+)/assets$`).exec(p);
      const mAsset = new RegExp(`^${api}/assets/(\\d+)$`).exec(p);
      const mUpload = new RegExp(`^/uploads${api}/(\\d+)/assets$`).exec(p);
      const mLatestDl = new RegExp(`^/${full}/releases/latest/download/(.+)$`).exec(p);
      const mDl = new RegExp(`^/${full}/releases/download/([^/]+)/(.+)$`).exec(p);
      if (req.method === "GET" && p === `${api}/latest`) {
        const r = latest();
        return r ? json(releaseJson(r)) : notFound();
      }
      if (req.method === "GET" && p === api) {
        const perPage = Number(u.searchParams.get("per_page") ?? 30);
        const list = (authed ? releases : published()).slice().reverse().slice(0, perPage);
        return json(list.map(releaseJson));
      }
      if (req.method === "GET" && mTag) {
        const r = published().find((x) => x.tag_name === mTag[1]);
        return r ? json(releaseJson(r)) : notFound();
      }
      if (req.method === "POST" && p === api) {
        if (!authed) return json({ message: "Requires authentication" }, 401);
        const b = (await req.json()) as Partial<Release>;
        if (!b.tag_name)
          return json(
            { message: "Validation Failed", errors: [{ field: "tag_name", code: "missing_field" }] },
            422,
          );
        if (releases.some((r) => r.tag_name === b.tag_name)) {
          return json(
            {
              message: "Validation Failed",
              errors: [{ resource: "Release", code: "already_exists", field: "tag_name" }],
            },
            422,
          );
        }
        const r: Release = {
          id: nextId++,
          tag_name: b.tag_name,
          name: b.name ?? b.tag_name,
          body: b.body ?? "",
          draft: b.draft ?? false,
          prerelease: b.prerelease ?? false,
          target_commitish: b.target_commitish ?? "main",
          created_at: new Date().toISOString(),
          assets: [],
        };
        releases.push(r);
        return json(releaseJson(r), 201);
      }
      if (mRel && req.method === "PATCH") {
        if (!authed) return json({ message: "Requires authentication" }, 401);
        const r = releases.find((x) => x.id === Number(mRel[1]));
        if (!r) return notFound();
        const b = (await req.json()) as Partial<Release>;
        if (b.draft !== undefined) r.draft = b.draft;
        if (b.prerelease !== undefined) r.prerelease = b.prerelease;
        if (b.name !== undefined) r.name = b.name;
        if (b.body !== undefined) r.body = b.body;
        return json(releaseJson(r));
      }
      if (mAssets && req.method === "GET") {
        const r = releases.find((x) => x.id === Number(mAssets[1]));
        return r ? json(r.assets.map((a) => assetJson(r, a))) : notFound();
      }
      if (mAsset) {
        const id = Number(mAsset[1]);
        const r = releases.find((x) => x.assets.some((a) => a.id === id));
        if (!r) return notFound();
        if (req.method === "DELETE") {
          if (!authed) return json({ message: "Requires authentication" }, 401);
          r.assets = r.assets.filter((a) => a.id !== id);
          return new Response(null, { status: 204 });
        }
        const a = r.assets.find((x) => x.id === id)!;
        if ((req.headers.get("accept") ?? "").includes("application/octet-stream"))
          return faulty(a.data, fault);
        return json(assetJson(r, a));
      }
      if (mUpload && req.method === "POST") {
        if (!authed) return json({ message: "Requires authentication" }, 401);
        const r = releases.find((x) => x.id === Number(mUpload[1]));
        if (!r) return notFound();
        const name = u.searchParams.get("name");
        if (!name) return json({ message: "Bad Content-Length" }, 422);
        if (r.assets.some((a) => a.name === name)) {
          return json(
            {
              message: "Validation Failed",
              errors: [{ resource: "ReleaseAsset", code: "already_exists", field: "name" }],
            },
            422,
          );
        }
        const a: Asset = { id: nextId++, name, data: new Uint8Array(await req.arrayBuffer()) };
        r.assets.push(a);
        return json(assetJson(r, a), 201);
      }
      if (mLatestDl) {
        const r = latest();
        if (!r) return new Response("Not Found", { status: 404 });
        return new Response(null, {
          status: 302,
          headers: { location: `${base}/${full}/releases/download/${r.tag_name}/${mLatestDl[1]}` },
        });
      }
      if (mDl) {
        const r = published().find((x) => x.tag_name === mDl![1]);
        const a = r?.assets.find((x) => x.name === mDl![2]);
        if (!a) return new Response("Not Found", { status: 404 });
        return faulty(a.data, fault);
      }
      return notFound();
    },
  });
  base = `http://127.0.0.1:${server.port}`;
  return {
    url: base,
    webUrl: base,
    apiUrl: opts.enterprise ? `${base}/api/v3` : base,
    token: opts.token,
    releases,
    log,
    faults,
    stop: () => server.stop(true),
  };
}
