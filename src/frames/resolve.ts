/**
 * @module
 * From a frame as a trace spells it to a file on disk, or a reason to skip it.
 *
 * - `node:internal/…` and `<frozen …>` / `<string>` / `<anonymous>` pseudo-files are not files;
 * - `file://` URLs become paths;
 * - a path containing a `skip_paths` entry is library or vendored code (checked on the path as
 *   written and as resolved); so are dependency caches and toolchain sources (Go module cache,
 *   cargo registry, rustup, rustc's `/rustc/<hash>/` paths) and runtime functions (`runtime.` in
 *   Go, `java.`/`jdk.`/`sun.` in Java);
 * - a relative path resolves against the child's cwd (not autosentry's);
 * - a Java frame names only `Cart.java`: it is looked up under the package's directory
 *   (`shop/Cart.java` from `shop.Cart.checkout`) in the cwd and the usual source roots.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Frame } from "../core/types.ts";

export type Resolution = { ok: true; path: string } | { ok: false; reason: string };

const PSEUDO_FILE = /^<[^>]*>$|^\[[^\]]*\]$|^(?:native|unknown|anonymous|evalmachine\..*)$/;

/** Dependency caches and toolchain sources that skip_paths' defaults do not cover. */
const BUILTIN_LIBRARY_PATHS = ["/pkg/mod/", "/.cargo/registry/", "/.cargo/git/", "/.rustup/toolchains/"];
const GO_RUNTIME = /^(?:runtime|testing|reflect|sync)\./;
const JDK_CLASS = /^(?:[\w.]+\/)?(?:java|javax|jdk|sun|com\.sun)\./;

const JAVA_ROOTS = ["", "src/main/java", "src/test/java", "src/main/kotlin", "src", "app/src/main/java"];

function fileFromUrlOrPath(file: string): string | null {
  if (!file.startsWith("file:")) return file;
  try {
    return fileURLToPath(file);
  } catch {
    return null;
  }
}

function exists(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `shop.Cart$Line.total` + `Cart.java` → `shop/Cart.java`. */
function javaPackagePath(fn: string, file: string): string | null {
  const parts = fn.replace(/^.*\//, "").split(".");
  if (parts.length < 3) return null;
  return path.join(...parts.slice(0, -2), file);
}

/** Where the frame's source is, or why it is skipped. */
export function resolveFrame(frame: Frame, cwd: string, skipPaths: string[]): Resolution {
  const written = frame.file.trim();
  if (written.startsWith("node:")) return { ok: false, reason: "Node.js internal module" };
  if (written.length === 0 || PSEUDO_FILE.test(written)) return { ok: false, reason: "not a source file" };
  const fn = frame.function ?? "";
  if (written.endsWith(".go") && GO_RUNTIME.test(fn))
    return { ok: false, reason: "Go runtime or standard library" };
  if (written.endsWith(".java") && JDK_CLASS.test(fn)) return { ok: false, reason: "JDK class" };
  const asPath = fileFromUrlOrPath(written);
  if (asPath === null) return { ok: false, reason: `not a file URL: ${written}` };
  const resolved = path.resolve(cwd, asPath);
  const lib = skipPaths.find((s) => s.length > 0 && (asPath.includes(s) || resolved.includes(s)));
  if (lib !== undefined) return { ok: false, reason: `library or vendored path (matches "${lib}")` };
  const builtin = BUILTIN_LIBRARY_PATHS.find((s) => resolved.includes(s));
  if (builtin !== undefined) return { ok: false, reason: `dependency or toolchain source (${builtin})` };
  if (resolved.startsWith("/rustc/")) return { ok: false, reason: "Rust standard library" };
  if (exists(resolved)) return { ok: true, path: resolved };
  if (!asPath.includes("/") && !asPath.includes("\\") && fn.includes(".")) {
    const rel = javaPackagePath(fn, asPath);
    if (rel !== null) {
      for (const root of JAVA_ROOTS) {
        const candidate = path.resolve(cwd, root, rel);
        if (exists(candidate)) return { ok: true, path: candidate };
      }
    }
  }
  return { ok: false, reason: "source file not on disk" };
}
