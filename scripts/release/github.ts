/**
 * @module
 * Publish a release directory (`<out>/v<version>/`) as a GitHub release with @octokit/rest. The API
 * base URL is configurable (`--api-url`, or GITHUB_API_URL, which Actions sets, also on GitHub
 * Enterprise Server: `https://HOST/api/v3`). Assets go to the release's own `upload_url` (GitHub.com
 * and GHE answer with different upload hosts; the release says which).
 *
 * The release is created as a draft, every asset is uploaded, and only then is it published, so
 * nobody ever sees (or `releases/latest` ever points at) a release with half its files. Re-running
 * after a failure resumes the draft: assets of the same name are replaced. An already published
 * release is left alone unless `force` (then its assets are replaced in place).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Octokit } from "@octokit/rest";
import { isPrerelease } from "../../src/update/semver.ts";

export interface PublishOptions {
  /** `owner/name`. */
  repo: string;
  token: string;
  apiUrl: string;
  /** Release notes (markdown). */
  notes: string;
  /** Commit the tag should point at when the release creates it. */
  commit: string | null;
  force: boolean;
  log: (s: string) => void;
}

function status(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "status" in err ? Number(err.status) : undefined;
}

/** Octokit logs every failed request at info level; our errors say it once, in our words. */
const QUIET_LOG = { debug() {}, info() {}, warn() {}, error() {} };

/** Publish `versionDir` as release `v<version>`; returns the release's html_url. */
export async function publishGithubRelease(
  versionDir: string,
  version: string,
  o: PublishOptions,
): Promise<string> {
  const [owner, repo] = o.repo.split("/");
  if (!owner || !repo) throw new Error(`Cannot publish: repository "${o.repo}" is not owner/name`);
  const octokit = new Octokit({
    auth: o.token,
    baseUrl: o.apiUrl.replace(/\/+$/, ""),
    userAgent: "autosentry-release",
    log: QUIET_LOG,
  });
  const tag = `v${version}`;

  let release: Awaited<ReturnType<typeof octokit.rest.repos.getReleaseByTag>>["data"] | null = null;
  try {
    release = (await octokit.rest.repos.getReleaseByTag({ owner, repo, tag })).data;
  } catch (err) {
    if (status(err) !== 404) throw err;
  }
  if (release === null) {
    // A draft is not found by tag on GitHub: look through the list before creating a second one.
    const list = await octokit.rest.repos.listReleases({ owner, repo, per_page: 100 });
    release = list.data.find((r) => r.tag_name === tag) ?? null;
  }
  if (release !== null && !release.draft && !o.force) {
    throw new Error(
      `Cannot publish ${tag}: it is already published (${release.html_url}); pass --force to replace its files`,
    );
  }
  if (release === null) {
    release = (
      await octokit.rest.repos.createRelease({
        owner,
        repo,
        tag_name: tag,
        name: `autosentry ${version}`,
        body: o.notes,
        draft: true,
        prerelease: isPrerelease(version),
        ...(o.commit ? { target_commitish: o.commit } : {}),
      })
    ).data;
    o.log(`created draft release ${tag} (id ${release.id})`);
  }

  const existing = await octokit.paginate(octokit.rest.repos.listReleaseAssets, {
    owner,
    repo,
    release_id: release.id,
    per_page: 100,
  });
  const names = fs
    .readdirSync(versionDir)
    .filter((n) => !n.startsWith("."))
    .sort();
  for (const name of names) {
    const old = existing.find((a) => a.name === name);
    if (old !== undefined) {
      await octokit.rest.repos.deleteReleaseAsset({ owner, repo, asset_id: old.id });
    }
    const data = fs.readFileSync(path.join(versionDir, name));
    await octokit.request({
      method: "POST",
      url: release.upload_url,
      name,
      data,
      headers: { "content-type": "application/octet-stream", "content-length": data.length },
    });
    o.log(`uploaded ${name} (${data.length} B)`);
  }
  if (release.draft) {
    release = (await octokit.rest.repos.updateRelease({ owner, repo, release_id: release.id, draft: false }))
      .data;
    o.log(`published ${release.html_url}`);
  }
  return release.html_url;
}
