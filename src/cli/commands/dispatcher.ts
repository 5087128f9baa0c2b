/**
 * @module
 * `autosentry dispatcher run [--once]`: deliver the chat outbox and take commands from its
 * threads (src/dispatcher); `autosentry dispatcher pending [--json]`: what is not delivered yet,
 * with the last error, and what was given up. The backend comes from `--backend` or the
 * environment (SLACK_BOT_TOKEN, DISCORD_BOT_TOKEN, SLACK_WEBHOOK_URL, DISCORD_WEBHOOK_URL), as in
 * the Python tool. Logs go to stderr; the stdout backend prints the messages on stdout.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { compileRegex } from "../../config/regex.ts";
import { messageOfLine } from "../../dispatcher/dispatcher.ts";
import { Ledger } from "../../dispatcher/ledger.ts";
import { readOutbox } from "../../dispatcher/outbox-reader.ts";
import { type BackendFlags, DispatchSetupError, setupDispatch } from "../../dispatcher/select.ts";
import { DispatcherBusyError, runDispatcher } from "../../dispatcher/service.ts";
import { createRedactor } from "../../redact/redactor.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

function setupOrExit(cfg: ReturnType<typeof loadConfigForCli>, flags: BackendFlags) {
  try {
    return setupDispatch(cfg, flags);
  } catch (err) {
    if (err instanceof DispatchSetupError)
      throw new CliExit(EXIT.usage, `autosentry dispatcher: ${err.message}`);
    throw err;
  }
}

/** The most recently written ledger of the same outbox (any backend), else `preferred`. */
function newestLedger(preferred: string): string {
  if (fs.existsSync(preferred)) return preferred;
  const dir = path.dirname(preferred);
  const base = path.basename(preferred).split(".")[0] ?? "";
  let best: { file: string; mtime: number } | null = null;
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return preferred;
  }
  for (const n of names) {
    if (!n.startsWith(`${base}.`) || !n.endsWith(".ledger.jsonl")) continue;
    const mtime = fs.statSync(path.join(dir, n)).mtimeMs;
    if (!best || mtime > best.mtime) best = { file: path.join(dir, n), mtime };
  }
  return best?.file ?? preferred;
}

/** `dispatcher run`'s options. */
interface DispatcherRunOptions extends BackendFlags, ConfigFlag {
  once?: boolean | undefined;
  pollSeconds?: number | undefined;
  inboxPath?: string | undefined;
  statePath?: string | undefined;
  inboundMarker?: string | undefined;
  idleInboundSeconds?: string | undefined;
}

/** `dispatcher pending`'s options. */
interface DispatcherPendingOptions extends BackendFlags, ConfigFlag {
  json?: boolean | undefined;
}

/** What `autosentry dispatcher run` does (its options are declared in src/cli/tree/dispatcher.ts). */
export async function dispatcherRunCommand(opts: DispatcherRunOptions): Promise<void> {
  const cfg = loadConfigForCli(opts);
  const setup = setupOrExit(cfg, opts);
  const redactor = createRedactor({
    extraPatterns: cfg.data.redaction.extra_patterns.map((p) => compileRegex(p)),
    allow: cfg.data.redaction.allow,
  });
  for (const flag of ["inboxPath", "statePath", "inboundMarker", "idleInboundSeconds"] as const) {
    if (opts[flag] !== undefined)
      process.stderr.write(
        `autosentry dispatcher: --${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is ignored (commands go to the monitor's control inbox; delivery state is in .autosentry/dispatch/)\n`,
      );
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const log = (level: string, msg: string) =>
    process.stderr.write(`${new Date().toISOString()} ${level} ${redactor.redact(msg)}\n`);
  log(
    "INFO",
    `dispatcher: ${setup.backend.name} delivers ${setup.outboxPath}${setup.channel ? ` to ${setup.channel}` : ""}${setup.backend.inbound ? "; replies in its threads are commands" : ""}`,
  );
  try {
    const pollSeconds = opts.pollSeconds as number | undefined;
    if (pollSeconds !== undefined && !(pollSeconds > 0))
      throw new CliExit(EXIT.usage, "autosentry dispatcher: --poll-seconds must be a positive number");
    const r = await runDispatcher({
      cfg,
      setup,
      log,
      once: opts.once === true,
      signal: stop.signal,
      redact: (t) => redactor.redact(t),
      ...(pollSeconds !== undefined ? { pollMs: pollSeconds * 1000 } : {}),
    });
    if (opts.once)
      log("INFO", `dispatcher: ${r.delivered} delivered, ${r.failed} failed, ${r.pending} waiting`);
  } catch (err) {
    if (err instanceof DispatcherBusyError)
      throw new CliExit(EXIT.failure, `autosentry dispatcher: ${err.message}`);
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** What `autosentry dispatcher pending` does (its options are declared in src/cli/tree/dispatcher.ts). */
export function dispatcherPendingCommand(opts: DispatcherPendingOptions): void {
  const cfg = loadConfigForCli(opts);
  const setup = setupOrExit(cfg, opts);
  // Without --backend or credentials here, read the ledger of whichever backend delivered last.
  const chosen = opts.backend ? setup.ledgerPath : newestLedger(setup.ledgerPath);
  const ledger = new Ledger(chosen);
  const st = ledger.state;
  const rows: Array<{
    key: string;
    id: string;
    kind: string;
    summary: string;
    attempts: number;
    error: string | null;
    dead: boolean;
  }> = [];
  let from = st.cursor;
  for (;;) {
    const r = readOutbox(setup.outboxPath, from);
    for (const e of r.entries) {
      const key = `o${e.off}`;
      const dead = st.dead.get(key);
      if (st.done.has(key) && dead === undefined) continue;
      const a = st.attempts.get(key);
      rows.push({
        key,
        id: String(e.line.id ?? ""),
        kind: String(e.line.kind ?? ""),
        summary: messageOfLine(e.line).summary,
        attempts: a?.n ?? 0,
        error: dead ?? a?.err ?? null,
        dead: dead !== undefined,
      });
    }
    if (r.next === from || r.shrank) break;
    from = r.next;
  }
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ outbox: setup.outboxPath, ledger: chosen, pending: rows }, null, 2)}\n`,
    );
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(`nothing pending in ${setup.outboxPath} (ledger ${path.basename(chosen)})\n`);
    return;
  }
  for (const r of rows) {
    const state = r.dead ? "GAVE UP" : r.attempts > 0 ? `${r.attempts} failed attempt(s)` : "waiting";
    process.stdout.write(`${r.id}  [${r.kind}] ${r.summary}  — ${state}${r.error ? `: ${r.error}` : ""}\n`);
  }
  process.stdout.write(`${rows.length} pending in ${setup.outboxPath} (ledger ${path.basename(chosen)})\n`);
}
