import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeTempRepo, type TempRepo } from "../../tests/fakes/temp-repo.ts";
import { captureFix } from "./capture.ts";
import { openPullRequest, repoFromRemoteUrl } from "./pull-request.ts";
import { snapshotBase } from "./snapshot.ts";

/** A loopback stand-in for the GitHub REST API's "create a pull request" endpoint. */
interface Seen {
  method: string;
  path: string;
  auth: string | null;
  body: Record<string, unknown>;
}
const seen: Seen[] = [];
let server: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = req.method === "POST" ? ((await req.json()) as Record<string, unknown>) : {};
      seen.push({ method: req.method, path: url.pathname, auth: req.headers.get("authorization"), body });
      const m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname);
      if (req.method === "POST" && m) {
        return Response.json(
          { number: 7, html_url: `https://github.example/${m[1]}/${m[2]}/pull/7`, state: "open" },
          { status: 201 },
        );
      }
      return Response.json({ message: "Not Found" }, { status: 404 });
    },
  });
});
afterAll(() => server.stop(true));

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
  seen.length = 0;
});

function project(): { r: TempRepo; remote: string } {
  const r = makeTempRepo({ "train.py": "lr = 0.1\nsteps = 10\n", "notes.txt": "todo\n" });
  const remote = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-remote-"));
  r.git("init", "-q", "--bare", remote);
  r.git("remote", "add", "origin", remote);
  cleanup.push(
    () => r.remove(),
    () => fs.rmSync(remote, { recursive: true, force: true }),
  );
  return { r, remote };
}

const apiUrl = () => `http://127.0.0.1:${server.port}/api/v3`;

describe("openPullRequest()", () => {
  test("pushes only the agent's edits on the base commit and opens the pull request", async () => {
    const { r, remote } = project();
    r.write("notes.txt", "todo\nmy uncommitted idea\n"); // the user's own work in progress
    const base = await snapshotBase(r.dir);
    r.write("train.py", "lr = 0.01\nsteps = 10\n"); // the agent's edit
    const fix = await captureFix(base!, "2026-11-22T03-04-05Z-error-traceback", {
      branchPrefix: "autosentry/fix-",
    });
    const pr = await openPullRequest(fix!, {
      remote: "origin",
      apiUrl: apiUrl(),
      token: "t0k3n",
      repo: "acme/train",
      title: "autosentry: fix for 2026-11-22T03-04-05Z-error-traceback",
      body: "# Incident report\n",
    });
    expect(pr.url).toBe("https://github.example/acme/train/pull/7");
    expect(pr.number).toBe(7);
    // On the remote: the base commit plus the agent's file, not the user's notes.
    const branch = "autosentry/fix-2026-11-22T03-04-05Z-error-traceback";
    const git = (...a: string[]) => r.git("--git-dir", remote, ...a).trim();
    expect(git("rev-parse", `${branch}^`)).toBe(base!.baseCommit!);
    expect(git("show", `${branch}:train.py`)).toBe("lr = 0.01\nsteps = 10");
    expect(git("show", `${branch}:notes.txt`)).toBe("todo");
    // The user's tree is as it was.
    expect(r.read("notes.txt")).toBe("todo\nmy uncommitted idea\n");
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe("/api/v3/repos/acme/train/pulls");
    expect(seen[0]!.auth).toContain("t0k3n");
    expect(seen[0]!.body).toMatchObject({
      head: branch,
      base: "main",
      title: "autosentry: fix for 2026-11-22T03-04-05Z-error-traceback",
      body: "# Incident report\n",
    });
  });

  test("refuses when the user had uncommitted changes in the agent's files", async () => {
    const { r } = project();
    r.write("train.py", "lr = 0.1\nsteps = 20\n");
    const base = await snapshotBase(r.dir);
    r.write("train.py", "lr = 0.01\nsteps = 20\n");
    const fix = await captureFix(base!, "INC-2", { branchPrefix: "autosentry/fix-" });
    await expect(
      openPullRequest(fix!, {
        remote: "origin",
        apiUrl: apiUrl(),
        token: "t",
        repo: "acme/train",
        title: "t",
        body: "b",
      }),
    ).rejects.toThrow("you had uncommitted changes in train.py");
    expect(seen).toHaveLength(0);
  });

  test("a push failure is reported and no pull request is opened", async () => {
    const { r } = project();
    const base = await snapshotBase(r.dir);
    r.write("train.py", "lr = 0.01\nsteps = 10\n");
    const fix = await captureFix(base!, "INC-3", { branchPrefix: "autosentry/fix-" });
    await expect(
      openPullRequest(fix!, {
        remote: "nowhere",
        apiUrl: apiUrl(),
        token: "t",
        repo: "a/b",
        title: "t",
        body: "b",
      }),
    ).rejects.toThrow("git push to nowhere failed");
    expect(seen).toHaveLength(0);
  });
});

describe("repoFromRemoteUrl()", () => {
  test("reads owner/name from the usual remote URL forms", () => {
    expect(repoFromRemoteUrl("git@github.com:acme/train.git")).toEqual({ owner: "acme", repo: "train" });
    expect(repoFromRemoteUrl("https://github.example.com/acme/train")).toEqual({
      owner: "acme",
      repo: "train",
    });
    expect(repoFromRemoteUrl("ssh://git@ghe.local:2222/acme/train.git")).toEqual({
      owner: "acme",
      repo: "train",
    });
    expect(repoFromRemoteUrl("/srv/git/train.git")).toEqual({ owner: "git", repo: "train" });
    expect(repoFromRemoteUrl("train")).toBeNull();
  });
});
