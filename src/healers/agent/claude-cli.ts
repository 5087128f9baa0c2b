/**
 * @module
 * Run the Claude Code CLI once, headless, in the project's working tree (`healing.claude.mode:
 * subprocess`).
 *
 * argv: `<command…> -p --output-format json --permission-mode acceptEdits --max-turns N
 * --disallowedTools Bash --settings {"disableAllHooks":true} [--add-dir D]…`. Decisions (checked against the real CLI
 * 2.1.330, see tests):
 * - The prompt goes on stdin, never in argv: no `ps` leak, no ARG_MAX limit, and variadic flags
 *   (`--add-dir`, `--allowedTools`) cannot swallow it.
 * - `acceptEdits` lets the agent edit files in the tree (captured afterwards as the fix);
 *   `bypassPermissions` is refused as root and would let the agent run anything.
 * - The Bash tool is removed (`--disallowedTools Bash`) unless `allowShell`: acceptEdits auto-approves
 *   `rm`, `mv`, `sed -i` and redirections inside the tree, and a deleted ignored file (data, a
 *   checkpoint) is outside any snapshot, so it could not be restored. Read, Edit, Write, Glob and
 *   Grep remain. With `allowShell`, other commands are still denied and listed in
 *   `permission_denials`.
 * - Hooks are disabled for the run: the project's own Stop hook (autosentry's session hook among
 *   them) must not re-enter autosentry or loop the agent.
 * - `--bare` is off by default: it allows only ANTHROPIC_API_KEY authentication, so a user logged in
 *   with a subscription would fail, and it skips CLAUDE.md, which holds project knowledge.
 * - `CLAUDE_CODE_MAX_RETRIES` defaults to 2 (unless set): with the CLI's default a bad key is
 *   retried for minutes. `DISABLE_AUTOUPDATER=1` (unless set): no self-update mid-incident.
 *   `AUTOSENTRY_AGENT_RUN=1` tells autosentry's own hooks and skills that this is a healer run.
 * - The CLI leads its own process group; a timeout or an abort kills the whole group (SIGTERM,
 *   grace, SIGKILL), and anything it left running in the group after it exits is killed too.
 */
import * as fs from "node:fs";
import { groupMembers, killGroupGracefully } from "../../util/proc.ts";
import { type AgentFailure, classifyApiFailure } from "./failure.ts";

export { type AgentFailure, type AgentFailureKind, isDisablingFailure } from "./failure.ts";

export interface RunClaudeOptions {
  /** The CLI as an argv prefix (`healing.claude.command`); default `["claude"]`. */
  command?: string[];
  prompt: string;
  /** The project's working tree. */
  cwd: string;
  /** The child's whole environment; default `process.env`. */
  env?: Record<string, string | undefined>;
  timeoutMs: number;
  /** `--max-turns` (`healing.claude.max_turns`). */
  maxTurns: number;
  /** Extra directories the agent may read and edit (`--add-dir`). */
  addDirs?: string[];
  /** Default `acceptEdits`. */
  permissionMode?: string;
  /** Passed before autosentry's own flags, e.g. `["--model", "claude-sonnet-4-5"]`. */
  extraArgs?: string[];
  /** Keep the Bash tool (default false: it is removed). */
  allowShell?: boolean;
  /** Default true: the project's hooks do not run inside a healer run. */
  disableHooks?: boolean;
  /** Add `--bare` (API-key auth only, no CLAUDE.md). Default false. */
  bare?: boolean;
  /** Stops the run (kills the group) when aborted. */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL. Default 3 s. */
  killGraceMs?: number;
}

export interface PermissionDenial {
  tool_name: string;
  tool_input: unknown;
}

export interface ClaudeResult {
  /** True when the CLI answered without error (the reply may still hold no valid ACTION). */
  ok: boolean;
  failure: AgentFailure | null;
  /** The final reply text (`result`), empty when there is none. */
  text: string;
  subtype: string | null;
  numTurns: number | null;
  sessionId: string | null;
  permissionDenials: PermissionDenial[];
  apiErrorStatus: number | null;
  costUsd: number | null;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** stderr, cut to 64 KiB. */
  stderr: string;
  /** The argv that was run (the prompt is not in it). */
  argv: string[];
}

const MAX_STDOUT = 8 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;

async function readCapped(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let kept = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (kept < max) {
      const piece = value.subarray(0, max - kept);
      chunks.push(piece);
      kept += piece.length;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The last line of `stdout` that parses as a JSON object (the CLI's `result` message). */
function lastJsonObject(stdout: string): Record<string, unknown> | null {
  const lines = stdout.trim().split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (!line.startsWith("{")) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {}
  }
  try {
    const v = JSON.parse(stdout) as unknown;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {}
  return null;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * Where the CLI of `command` (default `["claude"]`) is, looked up on the PATH of `env`; null when it
 * is not installed (mode `auto` then falls back, and `doctor` says so).
 */
export function findClaudeCli(
  command: string[] | undefined,
  env: Record<string, string | undefined> = process.env,
): string | null {
  const exe = command && command.length > 0 ? command[0]! : "claude";
  if (exe.includes("/")) {
    try {
      fs.accessSync(exe, fs.constants.X_OK);
      return exe;
    } catch {
      return null;
    }
  }
  return Bun.which(exe, { PATH: env.PATH ?? "" });
}

/** The argv for a run (exported for the logs and `doctor`). */
export function claudeArgv(opts: Omit<RunClaudeOptions, "prompt" | "cwd" | "timeoutMs">): string[] {
  const argv = [...(opts.command && opts.command.length > 0 ? opts.command : ["claude"])];
  argv.push(...(opts.extraArgs ?? []));
  argv.push("-p", "--output-format", "json", "--permission-mode", opts.permissionMode ?? "acceptEdits");
  argv.push("--max-turns", String(opts.maxTurns));
  if (!opts.allowShell) argv.push("--disallowedTools", "Bash");
  if (opts.disableHooks ?? true) argv.push("--settings", JSON.stringify({ disableAllHooks: true }));
  if (opts.bare) argv.push("--bare");
  for (const d of opts.addDirs ?? []) argv.push("--add-dir", d);
  return argv;
}

/** Run the CLI once; never rejects (failures are classified in `failure`). */
export async function runClaude(opts: RunClaudeOptions): Promise<ClaudeResult> {
  const started = performance.now();
  const argv = claudeArgv(opts);
  const base: ClaudeResult = {
    ok: false,
    failure: null,
    text: "",
    subtype: null,
    numTurns: null,
    sessionId: null,
    permissionDenials: [],
    apiErrorStatus: null,
    costUsd: null,
    exitCode: null,
    signal: null,
    durationMs: 0,
    stderr: "",
    argv,
  };
  const done = (r: Partial<ClaudeResult>): ClaudeResult => ({
    ...base,
    ...r,
    durationMs: Math.round(performance.now() - started),
  });

  let cwdOk = false;
  try {
    cwdOk = fs.statSync(opts.cwd).isDirectory();
  } catch {}
  if (!cwdOk) {
    return done({
      failure: { kind: "other", message: `Cannot run Claude Code: working directory not found: ${opts.cwd}` },
    });
  }
  if (opts.signal?.aborted)
    return done({ failure: { kind: "aborted", message: "Claude Code run aborted before it started" } });

  const env: Record<string, string | undefined> = { ...(opts.env ?? process.env) };
  env.CLAUDE_CODE_MAX_RETRIES ??= "2";
  env.DISABLE_AUTOUPDATER ??= "1";
  env.AUTOSENTRY_AGENT_RUN = "1";

  let proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  try {
    proc = Bun.spawn(argv, {
      cwd: opts.cwd,
      env,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const missing = /ENOENT|not found|no such file/i.test(msg);
    return done({
      failure: {
        kind: missing ? "missing_cli" : "other",
        message: missing
          ? `Claude Code CLI not found: ${argv[0]} (${msg})`
          : `Cannot run Claude Code: ${msg}`,
      },
    });
  }

  const out = readCapped(proc.stdout, MAX_STDOUT);
  const errText = readCapped(proc.stderr, MAX_STDERR);
  try {
    proc.stdin.write(opts.prompt);
    await Promise.resolve(proc.stdin.end()).catch(() => {});
  } catch {
    // It exited without reading the prompt; its output says why.
  }

  let stopped: "timeout" | "aborted" | null = null;
  let killing: Promise<unknown> | null = null;
  const stop = (why: "timeout" | "aborted"): void => {
    if (stopped) return;
    stopped = why;
    killing = killGroupGracefully(proc.pid, opts.killGraceMs ?? 3000);
  };
  const timer = setTimeout(() => stop("timeout"), opts.timeoutMs);
  const onAbort = (): void => stop("aborted");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  await proc.exited;
  clearTimeout(timer);
  opts.signal?.removeEventListener("abort", onAbort);
  if (killing) await killing;
  else if (groupMembers(proc.pid).length > 0) await killGroupGracefully(proc.pid, opts.killGraceMs ?? 3000);
  const [stdout, stderr] = await Promise.all([out, errText]);

  const exit = {
    exitCode: proc.exitCode,
    signal: typeof proc.signalCode === "string" ? proc.signalCode : null,
    stderr,
  };
  if (stopped === "timeout") {
    return done({
      ...exit,
      failure: {
        kind: "timeout",
        message: `Claude Code did not finish within ${Math.round(opts.timeoutMs / 1000)} s; its process group was killed`,
      },
    });
  }
  if (stopped === "aborted") {
    return done({
      ...exit,
      failure: { kind: "aborted", message: "Claude Code run aborted; its process group was killed" },
    });
  }

  const j = lastJsonObject(stdout);
  if (j === null) {
    const text = `${stderr}\n${stdout}`.trim();
    let kind = classifyApiFailure(null, text);
    if (exit.exitCode === 127 || /command not found|no such file or directory/i.test(text))
      kind = "missing_cli";
    const firstLines = text.split("\n").slice(0, 3).join(" / ") || `exit code ${exit.exitCode}`;
    return done({ ...exit, failure: { kind, message: `Claude Code gave no JSON result: ${firstLines}` } });
  }

  const denials = Array.isArray(j.permission_denials)
    ? (j.permission_denials as Record<string, unknown>[]).map((d) => ({
        tool_name: str(d.tool_name) ?? "?",
        tool_input: d.tool_input,
      }))
    : [];
  const parsed: Partial<ClaudeResult> = {
    ...exit,
    text: str(j.result) ?? "",
    subtype: str(j.subtype),
    numTurns: num(j.num_turns),
    sessionId: str(j.session_id),
    permissionDenials: denials,
    apiErrorStatus: num(j.api_error_status),
    costUsd: num(j.total_cost_usd),
  };
  const isError = j.is_error === true || (exit.exitCode !== 0 && exit.exitCode !== null);
  if (!isError) return done({ ...parsed, ok: true });

  const errors = Array.isArray(j.errors) ? (j.errors as unknown[]).filter((e) => typeof e === "string") : [];
  const message = (parsed.text || errors.join("; ") || stderr.trim().split("\n")[0] || "unknown error").slice(
    0,
    500,
  );
  if (parsed.subtype === "error_max_turns" || j.terminal_reason === "max_turns") {
    return done({
      ...parsed,
      failure: { kind: "max_turns", message: `Claude Code stopped at the turn cap: ${message}` },
    });
  }
  const kind = classifyApiFailure(parsed.apiErrorStatus, message);
  return done({
    ...parsed,
    failure: { kind, message: `Claude Code: ${message}`, status: parsed.apiErrorStatus ?? null },
  });
}
