/**
 * @module
 * Where releases come from: GitHub releases (default; @octokit/rest, API base URL configurable for
 * GitHub Enterprise) or a mirror laid out as docs/distribution.md says, served over http(s) or read
 * from a directory (a shared filesystem on an air-gapped cluster). Both answer the same three
 * questions: the newest version (stable, or including prereleases), whether a version exists, and
 * the bytes of one of its files.
 *
 * Environment: AUTOSENTRY_BASE_URL (a mirror; `--base-url` wins), AUTOSENTRY_REPO (owner/name),
 * AUTOSENTRY_GITHUB_API_URL, and AUTOSENTRY_GITHUB_TOKEN or GITHUB_TOKEN (private repositories,
 * rate limits).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Octokit } from "@octokit/rest";
import { compareVersions, parseVersion } from "./semver.ts";

/** Octokit logs every failed request at info level; our errors say it once, in our words. */
const QUIET_LOG = { debug() {}, info() {}, warn() {}, error() {} };

/** The repository releases are published to (install.sh has the same default). */
export const DEFAULT_REPO = "autosentry/autosentry";
export const DEFAULT_GITHUB_API = "https://api.github.com";
const CHECK_TIMEOUT_MS = 20_000;
const DOWNLOAD_TIMEOUT_MS = 15 * 60_000;

export interface ReleaseSource {
  /** Human-readable, and the cache key: the mirror's base or `github:<api>/<repo>`. */
  readonly label: string;
  /** Newest version; with `pre`, prereleases count too. */
  latest(pre: boolean): Promise<string>;
  /** Write `name` of release `version` to `dest`; throws "…: not found" when it does not exist. */
  download(version: string, name: string, dest: string): Promise<void>;
}

function why(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function httpToFile(url: string, dest: string, headers: Record<string, string> = {}): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: "follow", signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`Cannot download ${url}: ${why(err)}`);
  }
  if (!res.ok)
    throw new Error(`Cannot download ${url}: HTTP ${res.status}${res.status === 404 ? " (not found)" : ""}`);
  try {
    await Bun.write(dest, res);
  } catch (err) {
    throw new Error(`Cannot download ${url}: ${why(err)}`);
  }
  const want = Number(res.headers.get("content-length") ?? Number.NaN);
  const got = fs.statSync(dest).size;
  if (Number.isFinite(want) && got !== want) {
    throw new Error(`Cannot download ${url}: truncated (${got} of ${want} bytes)`);
  }
}

/** A mirror: `<base>/latest`, `<base>/latest-pre`, `<base>/v<version>/<file>`; http(s) or a directory. */
export class MirrorSource implements ReleaseSource {
  readonly label: string;
  private readonly base: string;
  private readonly local: boolean;

  constructor(base: string) {
    const trimmed = base.replace(/\/+$/, "");
    this.local = !/^https?:\/\//.test(trimmed);
    this.base = this.local ? path.resolve(trimmed.replace(/^file:\/\//, "")) : trimmed;
    this.label = this.base;
  }

  private async text(rel: string): Promise<string> {
    if (this.local) {
      try {
        return fs.readFileSync(path.join(this.base, rel), "utf8");
      } catch (err) {
        throw new Error(
          `Cannot read ${path.join(this.base, rel)}: ${(err as NodeJS.ErrnoException).code ?? why(err)}`,
        );
      }
    }
    const url = `${this.base}/${rel}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    } catch (err) {
      throw new Error(`Cannot reach ${url}: ${why(err)}`);
    }
    if (!res.ok) throw new Error(`Cannot read ${url}: HTTP ${res.status}`);
    return res.text();
  }

  async latest(pre: boolean): Promise<string> {
    const file = pre ? "latest-pre" : "latest";
    const v = (await this.text(file)).trim().replace(/^v/, "");
    if (parseVersion(v) === null)
      throw new Error(`${this.base}/${file} does not hold a version (got "${v.slice(0, 40)}")`);
    return v;
  }

  async download(version: string, name: string, dest: string): Promise<void> {
    const rel = `v${version}/${name}`;
    if (!this.local) return httpToFile(`${this.base}/${rel}`, dest);
    const src = path.join(this.base, rel);
    if (!fs.existsSync(src)) throw new Error(`Cannot read ${src}: not found`);
    fs.copyFileSync(src, dest);
  }
}

type Release = Awaited<ReturnType<Octokit["rest"]["repos"]["getLatestRelease"]>>["data"];

/** GitHub (or GitHub Enterprise) releases of `repo`, tagged `v<version>`. */
export class GithubSource implements ReleaseSource {
  readonly label: string;
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;
  private readonly token: string | undefined;
  private readonly releases = new Map<string, Release>();

  constructor(repo: string, apiUrl: string, token?: string) {
    const [owner, name] = repo.split("/");
    if (!owner || !name) throw new Error(`AUTOSENTRY_REPO must be owner/name, got "${repo}"`);
    this.owner = owner;
    this.repo = name;
    this.token = token;
    const baseUrl = apiUrl.replace(/\/+$/, "");
    this.label = `github:${baseUrl}/${repo}`;
    this.octokit = new Octokit({
      baseUrl,
      userAgent: "autosentry-update",
      log: QUIET_LOG,
      request: { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) },
      ...(token ? { auth: token } : {}),
    });
  }

  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      const status = typeof err === "object" && err !== null && "status" in err ? Number(err.status) : 0;
      if (status === 404) throw new Error(`${what}: not found (${this.owner}/${this.repo})`);
      throw new Error(`${what}: ${status ? `HTTP ${status}: ` : ""}${why(err)}`);
    }
  }

  async latest(pre: boolean): Promise<string> {
    if (!pre) {
      const r = await this.call("Cannot get the latest release", () =>
        this.octokit.rest.repos.getLatestRelease({ owner: this.owner, repo: this.repo }),
      );
      const v = r.data.tag_name.replace(/^v/, "");
      this.releases.set(v, r.data);
      return v;
    }
    const list = await this.call("Cannot list releases", () =>
      this.octokit.rest.repos.listReleases({ owner: this.owner, repo: this.repo, per_page: 50 }),
    );
    let best: string | null = null;
    for (const r of list.data) {
      const v = r.tag_name.replace(/^v/, "");
      if (r.draft || parseVersion(v) === null) continue;
      this.releases.set(v, r);
      if (best === null || compareVersions(v, best) > 0) best = v;
    }
    if (best === null) throw new Error(`Cannot list releases: ${this.owner}/${this.repo} has none`);
    return best;
  }

  private async release(version: string): Promise<Release> {
    const known = this.releases.get(version);
    if (known) return known;
    const r = await this.call(`Cannot find release v${version}`, () =>
      this.octokit.rest.repos.getReleaseByTag({ owner: this.owner, repo: this.repo, tag: `v${version}` }),
    );
    this.releases.set(version, r.data);
    return r.data;
  }

  async download(version: string, name: string, dest: string): Promise<void> {
    const rel = await this.release(version);
    const asset = rel.assets.find((a) => a.name === name);
    if (asset === undefined) throw new Error(`Cannot download ${name}: not found in release v${version}`);
    // Public assets come straight from browser_download_url; with a token (private repositories)
    // the API's asset URL answers with the bytes (or a redirect to them).
    if (this.token) {
      return httpToFile(asset.url, dest, {
        Accept: "application/octet-stream",
        Authorization: `Bearer ${this.token}`,
      });
    }
    return httpToFile(asset.browser_download_url, dest);
  }
}

/** The source `--base-url` / the environment select. */
export function selectSource(
  baseUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ReleaseSource {
  const base = baseUrl ?? env.AUTOSENTRY_BASE_URL;
  if (base) return new MirrorSource(base);
  return new GithubSource(
    env.AUTOSENTRY_REPO || DEFAULT_REPO,
    env.AUTOSENTRY_GITHUB_API_URL || DEFAULT_GITHUB_API,
    env.AUTOSENTRY_GITHUB_TOKEN || env.GITHUB_TOKEN || undefined,
  );
}
