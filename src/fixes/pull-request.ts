/**
 * @module
 * Opening a pull request for a kept fix (`healing.github.open_pr`): push a branch holding only the
 * agent's edits on top of the base commit (never the user's uncommitted work), then create the pull
 * request with @octokit/rest against `healing.github.api_url` (GitHub or GitHub Enterprise), with
 * the incident's report as its body.
 */
import type { FixCommit } from "./capture.ts";
import { type GitOptions, gitOut, runGit } from "./git-runner.ts";
import { agentOnlyCommit, userTouchedFixFiles } from "./keep.ts";

export interface PullRequestOptions {
  /** Git remote to push to (`healing.github.remote`). */
  remote: string;
  /** API base URL (`healing.github.api_url`). */
  apiUrl: string;
  /** The token (from the env var named by `healing.github.token_env`). */
  token: string;
  /** `owner/name`; default: read from the remote's URL. */
  repo?: string | undefined;
  title: string;
  body: string;
  userAgent?: string;
  timeoutMs?: number;
}

export interface PullRequestResult {
  url: string;
  number: number;
  branch: string;
  commit: string;
}

/** `owner/name` from a GitHub remote URL (`git@host:o/r.git`, `https://host/o/r(.git)`, `ssh://…`). */
export function repoFromRemoteUrl(url: string): { owner: string; repo: string } | null {
  const u = url.trim();
  let p: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) {
    try {
      p = new URL(u).pathname;
    } catch {
      return null;
    }
  } else if (/^[^/]+:/.test(u)) {
    p = u.slice(u.indexOf(":") + 1); // scp-like git@host:owner/name.git
  } else {
    p = u; // a local path
  }
  const parts = p
    .replace(/\.git\/?$/, "")
    .split("/")
    .filter(Boolean);
  if (parts.length < 2) return null;
  return { owner: parts[parts.length - 2]!, repo: parts[parts.length - 1]! };
}

/** Push the fix and open its pull request. Throws an Error saying what stopped it. */
export async function openPullRequest(fix: FixCommit, opts: PullRequestOptions): Promise<PullRequestResult> {
  if (!fix.branch) throw new Error("the fix has no branch");
  if (!fix.baseBranch || !fix.baseCommit)
    throw new Error("HEAD was detached when the agent ran: no base branch");
  const g: GitOptions = { cwd: fix.repoRoot, timeoutMs: opts.timeoutMs ?? 60_000 };
  const touched = await userTouchedFixFiles(fix, g);
  if (touched.length > 0) {
    throw new Error(
      `you had uncommitted changes in ${touched.join(", ")}; the fix cannot be separated from them`,
    );
  }
  const commit = await agentOnlyCommit(fix, g);
  const push = await runGit(["push", "--porcelain", opts.remote, `${commit}:refs/heads/${fix.branch}`], g);
  if (push.code !== 0)
    throw new Error(`git push to ${opts.remote} failed: ${push.stderr.trim() || push.stdout.trim()}`);

  let where = opts.repo ? { owner: opts.repo.split("/")[0]!, repo: opts.repo.split("/")[1] ?? "" } : null;
  if (!where) {
    const url = await gitOut(["remote", "get-url", opts.remote], g);
    where = repoFromRemoteUrl(url);
    if (!where) throw new Error(`cannot tell owner/name from ${opts.remote}'s URL; set healing.github.repo`);
  }
  const { Octokit } = await import("@octokit/rest");
  const octokit = new Octokit({
    auth: opts.token,
    baseUrl: opts.apiUrl.replace(/\/+$/, ""),
    userAgent: opts.userAgent ?? "autosentry",
    request: { timeout: opts.timeoutMs ?? 60_000, retries: 0 },
  });
  const res = await octokit.rest.pulls.create({
    owner: where.owner,
    repo: where.repo,
    title: opts.title,
    head: fix.branch,
    base: fix.baseBranch,
    body: opts.body,
    maintainer_can_modify: true,
  });
  return { url: res.data.html_url, number: res.data.number, branch: fix.branch, commit };
}
