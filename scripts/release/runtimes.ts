/**
 * @module
 * The Bun runtimes a release is cross-compiled against, fetched from the npm registry
 * (`npm pack @oven/bun-<target>@<version>`, which checks the registry's integrity hash) into a cache
 * outside the repository, never as dependencies (each is ~100 MB). They are pinned to exactly the
 * Bun that runs this script: `--bytecode` output is tied to the engine build, so a runtime of any
 * other version or revision would reject (or worse, misread) the embedded bytecode. The pin is
 * checked twice: the package's version, and the `<version>+<revision>` string inside the runtime
 * binary itself (so a stale or swapped file in the cache is caught too).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Target } from "./targets.ts";

/** `${XDG_CACHE_HOME:-~/.cache}/autosentry-build/bun-runtimes`, or AUTOSENTRY_RUNTIME_CACHE. */
export function defaultCacheDir(): string {
  const env = process.env.AUTOSENTRY_RUNTIME_CACHE;
  if (env) return path.resolve(env);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "autosentry-build", "bun-runtimes");
}

/** The engine stamp a runtime binary carries, e.g. `1.4.5+a7733435c`. */
export function engineStamp(): string {
  return `${Bun.version}+${Bun.revision.slice(0, 9)}`;
}

/** Throws unless the runtime binary at `file` is exactly the building Bun's version and revision. */
export function checkRuntime(file: string, pkgJson: string): void {
  const pkg = JSON.parse(fs.readFileSync(pkgJson, "utf8")) as { name?: string; version?: string };
  if (pkg.version !== Bun.version) {
    throw new Error(
      `Runtime ${file} is Bun ${pkg.version}, but this build runs Bun ${Bun.version}: bytecode is tied to the engine version`,
    );
  }
  const stamp = engineStamp();
  if (fs.readFileSync(file).indexOf(stamp) < 0) {
    throw new Error(`Runtime ${file} does not contain the engine stamp ${stamp}: not the building Bun`);
  }
}

/** Path of the Bun runtime for `target` (fetched into `cacheDir` unless already there). */
export async function runtimeFor(
  target: Target,
  cacheDir: string,
  log: (s: string) => void,
): Promise<string> {
  const dir = path.join(cacheDir, engineStamp(), target.name);
  const bin = path.join(dir, "package", "bin", "bun");
  const pkgJson = path.join(dir, "package", "package.json");
  if (fs.existsSync(path.join(dir, "ok"))) {
    checkRuntime(bin, pkgJson);
    return bin;
  }
  const spec = `${target.pkg}@${Bun.version}`;
  log(`fetching ${spec} from the npm registry into ${dir}`);
  fs.mkdirSync(cacheDir, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(cacheDir, `.fetch-${target.name}-`));
  try {
    const pack = Bun.spawnSync(["npm", "pack", spec, "--pack-destination", scratch, "--json", "--silent"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    if (pack.exitCode !== 0) {
      throw new Error(
        `Cannot fetch ${spec}: npm pack exited ${pack.exitCode}: ${pack.stderr.toString().trim().split("\n").slice(-2).join(" ")}`,
      );
    }
    const info = JSON.parse(pack.stdout.toString()) as Array<{ filename: string; integrity: string }>;
    const tgz = path.join(scratch, info[0]!.filename);
    const untar = Bun.spawnSync(["tar", "-xzf", tgz, "-C", scratch], { stderr: "pipe" });
    if (untar.exitCode !== 0) throw new Error(`Cannot unpack ${tgz}: ${untar.stderr.toString().trim()}`);
    fs.rmSync(tgz);
    checkRuntime(path.join(scratch, "package", "bin", "bun"), path.join(scratch, "package", "package.json"));
    fs.writeFileSync(
      path.join(scratch, "ok"),
      `${JSON.stringify({ spec, integrity: info[0]!.integrity })}\n`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(scratch, dir);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return bin;
}
