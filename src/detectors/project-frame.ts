/**
 * @module
 * The innermost frame of a detection, and its innermost *project* frame: the first frame (innermost
 * first) that is not library or runtime code — not in site-packages / dist-packages, the Python
 * standard library, node_modules or `node:` internals, the Go runtime / standard library / module
 * cache, Rust's standard library or the cargo registry, the JDK / Scala / Spark / Hadoop packages,
 * or a shared library (`.so`). It is where a person (or the agent) should look first.
 */
import type { Detection, Frame } from "../core/types.ts";
import { isGoRuntime } from "./traceback/go.ts";
import { isRustStd } from "./traceback/rust.ts";

const LIBRARY_PATH: readonly RegExp[] = [
  /[\\/](?:site|dist)-packages[\\/]|\.(?:zip|egg|whl)[\\/]/,
  /[\\/]lib[\\/]python\d+(?:\.\d+)?[\\/]/, // the stdlib (also under a venv or conda)
  /^<frozen |^<string>$|^<stdin>$|^<frozen>/,
  /[\\/]node_modules[\\/]/,
  /^node:|^internal[\\/]/,
  // GOROOT's standard library (`/usr/local/go/src/os/exec/…`; a GOPATH project under
  // `…/go/src/github.com/…` starts with a domain and is not), the module cache
  /[\\/][Gg]o[\\/]src[\\/][^\\/.]+[\\/]|[\\/]go[\\/]pkg[\\/]mod[\\/]|^\$GOROOT|[\\/]libexec[\\/]src[\\/]/,
  /^\/rustc\/|[\\/]\.cargo[\\/]registry[\\/]|[\\/]rustlib[\\/]/,
  /\.so(?:\.\d+)*$|\.dylib$|\.dll$/,
  /^\.\.[\\/](?:c10|aten|torch)[\\/]|^\/pytorch\//, // libtorch sources as its binaries name them
];

/** JVM frames are named by package; these are the platform's and the big frameworks'. */
const JVM_LIBRARY =
  /^(?:java|javax|jakarta|jdk|sun|com\/sun|scala|kotlin|groovy|org\/apache|org\/springframework|org\/hibernate|org\/eclipse|org\/junit|com\/google|com\/fasterxml|com\/mysql|org\/postgresql|io\/netty|io\/grpc|akka|reactor)\//;

/** True when `f` is library, runtime or standard-library code. */
export function isLibraryFrame(f: Frame, language?: string): boolean {
  const file = f.file;
  if (LIBRARY_PATH.some((re) => re.test(file))) return true;
  if (language === "java" && JVM_LIBRARY.test(file)) return true;
  // old Node (≤ 14) names its own modules without a directory: `module.js`, `events.js`
  if (language === "node" && !/[\\/]/.test(file)) return true;
  if (language === "go" && isGoRuntime(f)) return true;
  if (language === "rust" && isRustStd(f)) return true;
  if (language === "cpp" && /^(?:c10|at|torch|c10d|std)::/.test(f.function ?? "")) return true;
  return false;
}

/** The final exception's frames (innermost first), or []. */
export function finalFrames(d: Detection): Frame[] {
  return d.trace?.exceptions.at(-1)?.frames ?? [];
}

/** The innermost frame of a detection's final exception, or null. */
export function innermostFrame(d: Detection): Frame | null {
  return finalFrames(d)[0] ?? null;
}

/**
 * The innermost project frame: searched in the final exception's frames, then (for a chained trace
 * whose final exception is raised in library code) in the earlier exceptions', last-raised first;
 * for the JVM from the root cause outwards.
 */
export function projectFrame(d: Detection): Frame | null {
  const trace = d.trace;
  if (trace === undefined) return null;
  const lang = trace.language;
  const n = trace.exceptions.length;
  // JVM chains put the real failure in the root cause (`Caused by:`, first raised), whose frames are
  // the deepest; elsewhere the final exception is where the program failed.
  const order = lang === "java" ? [...Array(n).keys()] : [...Array(n).keys()].reverse();
  for (const i of order) {
    for (const f of trace.exceptions[i]!.frames) if (!isLibraryFrame(f, lang)) return f;
  }
  return null;
}

/** `file:line in fn` for a report line. */
export function frameText(f: Frame): string {
  return `${f.file}:${f.line}${f.function ? ` in ${f.function}` : ""}`;
}
