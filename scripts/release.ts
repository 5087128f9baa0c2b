/**
 * @module
 * `npm run release`: build every release target offline, archive, checksum and lay it out as a
 * mirror directory (scripts/release/layout.ts), optionally publish it as a GitHub release.
 * docs/distribution.md describes the layout and the choices made here.
 *
 * ```
 * bun scripts/release.ts [--targets linux-x64,linux-arm64,…] [--out dist/release]
 *   [--version X] [--formats tar.gz,tar.xz] [--cache DIR] [--keep-binaries]
 *   [--publish --repo OWNER/NAME --api-url URL --notes FILE --force] [--publish-only]
 *   [--gzip-level 1-9]
 * ```
 * `--publish-only` publishes an existing `<out>/v<version>/` without building (the workflow builds
 * and publishes in one go; this is for re-trying a failed upload). `--gzip-level` (default 9) is for
 * tests that build throw-away releases.
 * `--version` stamps another version than package.json's (tests build "the next release" this way;
 * the release workflow refuses a tag that differs from package.json). GITHUB_TOKEN, GITHUB_REPOSITORY
 * and GITHUB_API_URL are read for `--publish`. Exit 0 when every requested target was built and
 * checked; a target that fails fails the release (nothing half-built is published).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { normalizeVersion } from "../src/update/semver.ts";
import { archive, sha256File } from "./release/archive.ts";
import { compile, REPO, smokeTest } from "./release/build.ts";
import { publishGithubRelease } from "./release/github.ts";
import { type BuiltTarget, updatePointers, writeVersionDir } from "./release/layout.ts";
import { defaultCacheDir, runtimeFor } from "./release/runtimes.ts";
import { TARGETS, targetByName } from "./release/targets.ts";

function log(s: string): void {
  process.stderr.write(`release: ${s}\n`);
}

function git(args: string[]): string | null {
  const r = Bun.spawnSync(["git", ...args], { cwd: REPO, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      targets: { type: "string" },
      out: { type: "string", default: path.join(REPO, "dist", "release") },
      version: { type: "string" },
      formats: { type: "string", default: "tar.gz,tar.xz" },
      cache: { type: "string" },
      "keep-binaries": { type: "boolean", default: false },
      publish: { type: "boolean", default: false },
      repo: { type: "string" },
      "api-url": { type: "string" },
      notes: { type: "string" },
      force: { type: "boolean", default: false },
      "publish-only": { type: "boolean", default: false },
      "gzip-level": { type: "string", default: "9" },
    },
    strict: true,
  });
  const version = normalizeVersion(values.version ?? pkg.version);
  const targets = values.targets
    ? values.targets.split(",").map((n) => targetByName(n.trim()))
    : [...TARGETS];
  const formats = values.formats.split(",").map((f) => f.trim());
  for (const f of formats)
    if (f !== "tar.gz" && f !== "tar.xz") throw new Error(`Unknown format "${f}": tar.gz or tar.xz`);
  if (!formats.includes("tar.gz"))
    throw new Error("--formats must include tar.gz (install.sh needs it where xz is missing)");
  const gzipLevel = Number(values["gzip-level"]);
  if (!Number.isInteger(gzipLevel) || gzipLevel < 1 || gzipLevel > 9)
    throw new Error("--gzip-level must be 1 to 9");
  const cache = values.cache ? path.resolve(values.cache) : defaultCacheDir();
  const out = path.resolve(values.out);
  const versionDir = path.join(out, `v${version}`);
  const buildDir = path.join(out, `.build-v${version}`);
  const commit = git(["rev-parse", "HEAD"]);
  const commitTime = Number(
    process.env.SOURCE_DATE_EPOCH ?? git(["log", "-1", "--format=%ct"]) ?? Math.floor(Date.now() / 1000),
  );

  if (!values["publish-only"]) {
    log(
      `autosentry ${version}, Bun ${Bun.version}+${Bun.revision.slice(0, 9)}, targets ${targets.map((t) => t.name).join(" ")}`,
    );
    fs.rmSync(versionDir, { recursive: true, force: true });
    fs.mkdirSync(versionDir, { recursive: true });
    const built: BuiltTarget[] = [];
    for (const target of targets) {
      const runtime = await runtimeFor(target, cache, log);
      const binDir = path.join(buildDir, target.name);
      const bin = path.join(binDir, "autosentry");
      compile(target, runtime, version, bin);
      const checked = smokeTest(target, bin, version, runtime);
      const archives = await archive(
        binDir,
        target.name,
        versionDir,
        commitTime,
        formats as Array<"tar.gz" | "tar.xz">,
        log,
        gzipLevel,
      );
      const binarySize = fs.statSync(bin).size;
      built.push({ target: target.name, archives, binarySize, binarySha256: await sha256File(bin), checked });
      log(
        `${target.name}: ${(binarySize / 1e6).toFixed(1)} MB, ${archives.map((a) => `${a.format} ${(a.size / 1e6).toFixed(1)} MB`).join(", ")}; ${checked}`,
      );
    }
    if (!values["keep-binaries"]) fs.rmSync(buildDir, { recursive: true, force: true });
    const manifest = await writeVersionDir(
      versionDir,
      version,
      built,
      [path.join(REPO, "install.sh"), path.join(REPO, "update.sh")],
      { commit, createdAt: new Date(commitTime * 1000).toISOString() },
    );
    const moved = updatePointers(out, version);
    log(
      `wrote ${versionDir} (${manifest.files.length} files)${moved.length ? `; ${moved.join(", ")} -> ${version}` : ""}`,
    );
  }

  if (values.publish || values["publish-only"]) {
    if (!fs.existsSync(path.join(versionDir, "manifest.json")))
      throw new Error(`Cannot publish: ${versionDir} holds no release`);
    const token = process.env.GITHUB_TOKEN ?? process.env.GH_TOKEN;
    const repo = values.repo ?? process.env.GITHUB_REPOSITORY;
    if (!token) throw new Error("Cannot publish: GITHUB_TOKEN is not set");
    if (!repo) throw new Error("Cannot publish: no repository (--repo OWNER/NAME or GITHUB_REPOSITORY)");
    const notes = values.notes
      ? fs.readFileSync(values.notes, "utf8")
      : `autosentry ${version}\n\nSee docs/distribution.md for how to install.`;
    const url = await publishGithubRelease(versionDir, version, {
      repo,
      token,
      apiUrl: values["api-url"] ?? process.env.GITHUB_API_URL ?? "https://api.github.com",
      notes,
      commit,
      force: values.force,
      log,
    });
    console.log(url);
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  if (process.env.AUTOSENTRY_DEBUG) console.error(err);
  process.exitCode = 1;
}
