/**
 * @module
 * What the capture shim and the local supervisor agree on: the shim's arguments, the frames it
 * writes to its stdout, the exit file and the banner lines in process.log.
 *
 * Frames are lines: one tag character, a payload, `\n`. Child output payloads never contain `\n` or
 * `\r` (the shim splits on them), so nothing needs escaping.
 *
 * | frame | meaning |
 * |---|---|
 * | `P<childpid>` | the child started (sent once, after the start banner) |
 * | `O<text>` / `E<text>` | one line of the child's stdout / stderr |
 * | `Z<ino>:<bytes>` | process.log (that inode) holds everything forwarded so far up to `bytes` |
 * | `D<count>` | `count` lines were not forwarded because the reader fell behind (they are in process.log) |
 * | `W<text>` | the shim has a problem worth logging (process.log not writable, …) |
 * | `F<text>` | the child could not be started; the shim exits 127 |
 * | `X<json>` | the child is gone: a {@link ShimExit}; the last frame |
 *
 * Every batch of line frames is followed by a `Z` frame, so the offset the monitor last saw is exactly
 * the end of the last line it received; a new monitor re-adopting the child resumes from there.
 */

export const TAG_PID = 80; // P
export const TAG_STDOUT = 79; // O
export const TAG_STDERR = 69; // E
export const TAG_OFFSET = 90; // Z
export const TAG_DROPPED = 68; // D
export const TAG_WARN = 87; // W
export const TAG_FAIL = 70; // F
export const TAG_EXIT = 88; // X

/** Stream codes of the line frames' tags (`O` 0 stdout, `E` 1 stderr), -1 for every other byte. */
export const LINE_TAG_STREAMS: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  t[TAG_STDOUT] = 0;
  t[TAG_STDERR] = 1;
  return t;
})();

/** Written atomically by the shim when the child is gone; also the payload of the `X` frame. */
export interface ShimExit {
  generation: number;
  /** The child's pid. */
  pid: number;
  /** Exit code, or null when the child died of a signal. */
  code: number | null;
  /** Signal name when the child died of a signal. */
  signal: string | null;
  /** Epoch ms when the shim saw the child exit. */
  at: number;
  /** Processes left in the group after the child exited (the shim killed them). */
  leftovers: number;
}

export interface ShimOptions {
  generation: number;
  /** Absolute path of process.log. */
  logPath: string;
  /** Absolute path of the exit file. */
  exitFile: string;
  maxLineLength: number;
  logMaxBytes: number;
  logBackups: number;
  /** The child's argv. */
  argv: string[];
}

const USAGE =
  "usage: autosentry __shim --generation N --log FILE --exit-file FILE --max-line N " +
  "--log-max-bytes N --log-backups N -- COMMAND [ARG...]";

/** The arguments after `__shim`. */
export function shimArgs(o: ShimOptions): string[] {
  return [
    "--generation",
    String(o.generation),
    "--log",
    o.logPath,
    "--exit-file",
    o.exitFile,
    "--max-line",
    String(o.maxLineLength),
    "--log-max-bytes",
    String(o.logMaxBytes),
    "--log-backups",
    String(o.logBackups),
    "--",
    ...o.argv,
  ];
}

/** Parse the arguments after `__shim`; throws an Error carrying the usage text. */
export function parseShimArgs(args: string[], usage = USAGE): ShimOptions {
  const sep = args.indexOf("--");
  if (sep < 0 || sep === args.length - 1) throw new Error(`missing command\n${usage}`);
  const flags = new Map<string, string>();
  for (let i = 0; i < sep; i += 2) {
    const k = args[i]!;
    const v = args[i + 1];
    if (!k.startsWith("--") || v === undefined || i + 1 >= sep)
      throw new Error(`bad argument ${k}\n${usage}`);
    flags.set(k.slice(2), v);
  }
  const str = (k: string): string => {
    const v = flags.get(k);
    if (v === undefined || v === "") throw new Error(`missing --${k}\n${usage}`);
    return v;
  };
  const int = (k: string, min: number): number => {
    const n = Number(str(k));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${k} must be an integer >= ${min}\n${usage}`);
    return n;
  };
  return {
    generation: int("generation", 0),
    logPath: str("log"),
    exitFile: str("exit-file"),
    maxLineLength: int("max-line", 1),
    logMaxBytes: int("log-max-bytes", 1),
    logBackups: int("log-backups", 0),
    argv: args.slice(sep + 1),
  };
}

/** `__shim --serve …`: one capture process for many generations, each asked for on its stdin. */
export const SERVE_FLAG = "--serve";

/** What the serving shim shares across generations (the first argument is {@link SERVE_FLAG}). */
export type ServeOptions = Pick<ShimOptions, "logPath" | "maxLineLength" | "logMaxBytes" | "logBackups">;

/** One line on a serving shim's stdin: start this generation. */
export interface GenerationRequest {
  generation: number;
  argv: string[];
  /** Absolute working directory of the child. */
  cwd: string;
  /** The child's complete environment. */
  env: Record<string, string>;
  /** Where the shim writes the {@link ShimExit}. */
  exitFile: string;
}

const SERVE_USAGE =
  "usage: autosentry __shim --serve --log FILE --max-line N --log-max-bytes N --log-backups N " +
  "(then one JSON generation request per line on stdin)";

/** The arguments after `__shim` for a serving shim. */
export function serveArgs(o: ServeOptions): string[] {
  return [
    SERVE_FLAG,
    "--log",
    o.logPath,
    "--max-line",
    String(o.maxLineLength),
    "--log-max-bytes",
    String(o.logMaxBytes),
    "--log-backups",
    String(o.logBackups),
  ];
}

/** Parse the arguments after `__shim --serve`. */
export function parseServeArgs(args: string[]): ServeOptions {
  const parsed = parseShimArgs([...args, "--generation", "0", "--exit-file", "-", "--", "-"], SERVE_USAGE);
  return {
    logPath: parsed.logPath,
    maxLineLength: parsed.maxLineLength,
    logMaxBytes: parsed.logMaxBytes,
    logBackups: parsed.logBackups,
  };
}

/** Parse one request line of a serving shim; throws when it is not one. */
export function parseGenerationRequest(line: string): GenerationRequest {
  const v = JSON.parse(line) as Partial<GenerationRequest> | null;
  const ok =
    v !== null &&
    typeof v === "object" &&
    typeof v.generation === "number" &&
    Array.isArray(v.argv) &&
    v.argv.length > 0 &&
    v.argv.every((a) => typeof a === "string") &&
    typeof v.cwd === "string" &&
    typeof v.exitFile === "string" &&
    v.env !== null &&
    typeof v.env === "object";
  if (!ok) throw new Error(`not a generation request: ${line.slice(0, 200)}`);
  return v as GenerationRequest;
}

/** Parse an exit file or `X` payload; null when it is not one. */
export function parseShimExit(json: string): ShimExit | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (v === null || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  const numOrNull = (x: unknown): x is number | null => x === null || typeof x === "number";
  if (typeof o["generation"] !== "number" || typeof o["pid"] !== "number" || typeof o["at"] !== "number") {
    return null;
  }
  if (!numOrNull(o["code"]) || !(o["signal"] === null || typeof o["signal"] === "string")) return null;
  return {
    generation: o["generation"],
    pid: o["pid"],
    code: o["code"],
    signal: o["signal"] as string | null,
    at: o["at"],
    leftovers: typeof o["leftovers"] === "number" ? o["leftovers"] : 0,
  };
}

const BANNER_PREFIX = "===== autosentry: ";

/** `===== autosentry: start <iso> gen=<G> pid=<childpid> =====` */
export function startBanner(at: number, generation: number, pid: number): string {
  return `${BANNER_PREFIX}start ${new Date(at).toISOString()} gen=${generation} pid=${pid} =====`;
}

/** `===== autosentry: stop <iso> exit=<code> =====` (`exit=unknown` when nobody knows). */
export function stopBanner(at: number, code: number | null): string {
  return `${BANNER_PREFIX}stop ${new Date(at).toISOString()} exit=${code ?? "unknown"} =====`;
}

/** True for the banner lines autosentry writes into process.log (not child output). */
export function isBanner(text: string): boolean {
  return text.startsWith(BANNER_PREFIX) && text.endsWith(" =====");
}
