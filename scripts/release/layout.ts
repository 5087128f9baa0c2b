/**
 * @module
 * The release directory, which is also the mirror layout: copy it (rsync, cp -r, an object store)
 * under any static HTTP server or onto a shared filesystem and point install.sh / `autosentry
 * update` at it with AUTOSENTRY_BASE_URL (an http(s) URL or a plain directory path).
 *
 * ```
 * <base>/latest            newest release version, one line ("0.2.0")
 * <base>/latest-pre        newest version including prereleases
 * <base>/install.sh        install.sh of the newest release (so `curl <base>/install.sh | sh` works)
 * <base>/update.sh
 * <base>/v<version>/       one directory per release, the same files as its GitHub release:
 *     autosentry-<target>.tar.gz   (+ .tar.xz), one `autosentry` binary inside
 *     SHA256SUMS                   `sha256sum -c` format, every other file of the directory
 *     manifest.json                version, commit, Bun, and per file: target, format, sha256, size
 *     VERSION  install.sh  update.sh
 * ```
 * `latest` is a file, not a symlink: symlinks do not survive every copy (object stores, zip) and
 * not every HTTP server follows them. A new release never moves `latest` backwards (a patch of an
 * older line can be published without demoting the newest).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { compareVersions, isPrerelease } from "../../src/update/semver.ts";
import type { ArchiveFile } from "./archive.ts";
import { sha256File } from "./archive.ts";

export interface ManifestFile {
  name: string;
  /** Release target, or null for the scripts. */
  target: string | null;
  format: string;
  sha256: string;
  size: number;
  /** The binary inside an archive. */
  binary_size?: number;
  binary_sha256?: string;
  /** How the build checked the binary (ran `--version`, or a structural check and why). */
  checked?: string;
}

export interface Manifest {
  name: "autosentry";
  version: string;
  prerelease: boolean;
  commit: string | null;
  created_at: string;
  bun: { version: string; revision: string };
  files: ManifestFile[];
}

function writeAtomic(file: string, text: string | Uint8Array, mode = 0o644): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}

export interface BuiltTarget {
  target: string;
  archives: ArchiveFile[];
  binarySize: number;
  binarySha256: string;
  checked: string;
}

/** Write SHA256SUMS, manifest.json, VERSION and the scripts into `versionDir`; returns the manifest. */
export async function writeVersionDir(
  versionDir: string,
  version: string,
  built: BuiltTarget[],
  scripts: string[],
  meta: { commit: string | null; createdAt: string },
): Promise<Manifest> {
  const files: ManifestFile[] = [];
  for (const b of built) {
    for (const a of b.archives) {
      files.push({
        name: a.name,
        target: b.target,
        format: a.format,
        sha256: a.sha256,
        size: a.size,
        binary_size: b.binarySize,
        binary_sha256: b.binarySha256,
        checked: b.checked,
      });
    }
  }
  for (const script of scripts) {
    const name = path.basename(script);
    const dest = path.join(versionDir, name);
    fs.copyFileSync(script, dest);
    fs.chmodSync(dest, 0o755);
    files.push({
      name,
      target: null,
      format: "sh",
      sha256: await sha256File(dest),
      size: fs.statSync(dest).size,
    });
  }
  const manifest: Manifest = {
    name: "autosentry",
    version,
    prerelease: isPrerelease(version),
    commit: meta.commit,
    created_at: meta.createdAt,
    bun: { version: Bun.version, revision: Bun.revision },
    files,
  };
  writeAtomic(path.join(versionDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeAtomic(path.join(versionDir, "VERSION"), `${version}\n`);
  const sums = [...files.map((f) => ({ name: f.name, sha256: f.sha256 }))];
  sums.push({ name: "manifest.json", sha256: await sha256File(path.join(versionDir, "manifest.json")) });
  writeAtomic(path.join(versionDir, "SHA256SUMS"), sums.map((s) => `${s.sha256}  ${s.name}\n`).join(""));
  return manifest;
}

function readVersionFile(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8").trim() || null;
  } catch {
    return null;
  }
}

/** Point `latest` / `latest-pre` (and the top-level scripts) at `version` unless a newer one is there. */
export function updatePointers(base: string, version: string): string[] {
  const moved: string[] = [];
  const pointers = isPrerelease(version) ? ["latest-pre"] : ["latest", "latest-pre"];
  for (const name of pointers) {
    const file = path.join(base, name);
    const cur = readVersionFile(file);
    if (cur !== null && compareVersions(cur, version) > 0) continue;
    writeAtomic(file, `${version}\n`);
    moved.push(name);
    if (name === "latest") {
      for (const s of ["install.sh", "update.sh"]) {
        writeAtomic(path.join(base, s), fs.readFileSync(path.join(base, `v${version}`, s)), 0o755);
      }
    }
  }
  return moved;
}
