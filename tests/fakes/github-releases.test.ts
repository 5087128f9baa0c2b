import { afterEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { publishGithubRelease } from "../../scripts/release/github.ts";
import { type FakeGithub, startFakeGithub } from "./github-releases.ts";

let gh: FakeGithub | null = null;
afterEach(() => {
  gh?.stop();
  gh = null;
});

/** A tiny release directory (the real one is built by the e2e tests). */
function versionDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "publish-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const logs: string[] = [];
const opts = (fake: FakeGithub, force = false) => ({
  repo: "acme/tool",
  token: fake.token,
  apiUrl: fake.apiUrl,
  notes: "notes",
  commit: "abc123",
  force,
  log: (s: string) => logs.push(s),
});

for (const enterprise of [false, true]) {
  test(`publishes a draft, uploads every file, then publishes it (${enterprise ? "GitHub Enterprise" : "github.com"} shapes)`, async () => {
    gh = startFakeGithub({ owner: "acme", repo: "tool", token: "tok", enterprise });
    const dir = versionDir({
      SHA256SUMS: "sums\n",
      "autosentry-linux-x64.tar.gz": "bytes",
      VERSION: "1.2.3\n",
    });
    const url = await publishGithubRelease(dir, "1.2.3", opts(gh));
    expect(url).toBe(`${gh.url}/acme/tool/releases/tag/v1.2.3`);
    const [r] = gh.releases;
    expect(r).toMatchObject({
      tag_name: "v1.2.3",
      draft: false,
      prerelease: false,
      target_commitish: "abc123",
      body: "notes",
    });
    expect(r!.assets.map((a) => [a.name, new TextDecoder().decode(a.data)])).toEqual([
      ["SHA256SUMS", "sums\n"],
      ["VERSION", "1.2.3\n"],
      ["autosentry-linux-x64.tar.gz", "bytes"],
    ]);
    // Published only after the last upload.
    const publish = gh.log.findIndex((l) => l.startsWith("PATCH "));
    const lastUpload = gh.log.findLastIndex((l) => l.includes("/assets") && l.startsWith("POST "));
    expect(publish).toBeGreaterThan(lastUpload);
  });
}

test("a published release is refused without --force; with it its files are replaced", async () => {
  gh = startFakeGithub({ owner: "acme", repo: "tool", token: "tok" });
  const dir = versionDir({ VERSION: "2.0.0-rc.1\n" });
  await publishGithubRelease(dir, "2.0.0-rc.1", opts(gh));
  expect(gh.releases[0]!.prerelease).toBe(true);
  await expect(publishGithubRelease(dir, "2.0.0-rc.1", opts(gh))).rejects.toThrow(
    `Cannot publish v2.0.0-rc.1: it is already published (${gh.url}/acme/tool/releases/tag/v2.0.0-rc.1); pass --force to replace its files`,
  );
  fs.writeFileSync(path.join(dir, "VERSION"), "changed\n");
  await publishGithubRelease(dir, "2.0.0-rc.1", opts(gh, true));
  expect(gh.releases).toHaveLength(1);
  expect(gh.releases[0]!.assets.map((a) => new TextDecoder().decode(a.data))).toEqual(["changed\n"]);
});

test("a draft left by a failed run is resumed, not duplicated", async () => {
  gh = startFakeGithub({ owner: "acme", repo: "tool", token: "tok" });
  const res = await fetch(`${gh.apiUrl}/repos/acme/tool/releases`, {
    method: "POST",
    headers: { authorization: "token tok" },
    body: JSON.stringify({ tag_name: "v3.0.0", draft: true }),
  });
  expect(res.status).toBe(201);
  const dir = versionDir({ VERSION: "3.0.0\n", SHA256SUMS: "x\n" });
  await publishGithubRelease(dir, "3.0.0", opts(gh));
  expect(gh.releases).toHaveLength(1);
  expect(gh.releases[0]!.draft).toBe(false);
  expect(gh.releases[0]!.assets).toHaveLength(2);
});

test("a wrong token fails with GitHub's answer", async () => {
  gh = startFakeGithub({ owner: "acme", repo: "tool", token: "tok" });
  const dir = versionDir({ VERSION: "1.0.0\n" });
  await expect(publishGithubRelease(dir, "1.0.0", { ...opts(gh), token: "nope" })).rejects.toThrow(
    "Requires authentication",
  );
});
