/**
 * @module
 * `autosentry dispatcher run [--once]`: deliver the chat outbox and take commands from its
 * threads (src/dispatcher); `autosentry dispatcher pending [--json]`: what is not delivered yet,
 * with the last error, and what was given up; `autosentry dispatcher retry [ids...]`: deliver
 * given-up messages again. The backend comes from `--backend` or the
 * environment (SLACK_BOT_TOKEN, DISCORD_BOT_TOKEN, SLACK_WEBHOOK_URL, DISCORD_WEBHOOK_URL), as in
 * the Python tool. Logs go to stderr; the stdout backend prints the messages on stdout.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { compileRegex } from "../../config/regex.ts";
import { messageOfLine } from "../../dispatcher/dispatcher.ts";
import { Ledger, type LedgerState, offsetOfKey, segmentAt } from "../../dispatcher/ledger.ts";
import { lineAt, readOutboxStream } from "../../dispatcher/outbox-reader.ts";
import { requestRetries, retryRequestsPath } from "../../dispatcher/retry-requests.ts";
import {
  type BackendFlags,
  type DispatchSetup,
  DispatchSetupError,
  setupDispatch,
} from "../../dispatcher/select.ts";
import { DispatcherBusyError, runDispatcher } from "../../dispatcher/service.ts";
import { ownerAlive, readLock } from "../../monitor/lock.ts";
import type { OutboxLine } from "../../notify/outbox.ts";
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

interface PendingRow {
  key: string;
  id: string;
  kind: string;
  summary: string;
  attempts: number;
  error: string | null;
  dead: boolean;
}

/**
 * Messages not delivered: the given-up ones the ledger remembers (also before its cursor, so they
 * can be retried), then every line from the cursor on that is not done, across rotated files.
 */
function pendingRows(outboxPath: string, st: LedgerState): PendingRow[] {
  const rows = new Map<string, PendingRow & { off: number }>();
  const row = (key: string, off: number, line: OutboxLine | null) => {
    const dead = st.dead.get(key);
    const a = st.attempts.get(key);
    rows.set(key, {
      key,
      off,
      id: String(line?.id ?? ""),
      kind: String(line?.kind ?? ""),
      summary: line ? messageOfLine(line).summary : "(no longer in the outbox: rotated away)",
      attempts: a?.n ?? 0,
      error: dead ?? a?.err ?? null,
      dead: dead !== undefined,
    });
  };
  for (const key of st.dead.keys()) {
    const off = offsetOfKey(key);
    if (!Number.isNaN(off)) row(key, off, lineAt(outboxPath, [...st.segs, st.seg], off));
  }
  let seg = segmentAt(st, st.cursor);
  let from = st.cursor;
  for (;;) {
    const r = readOutboxStream(outboxPath, seg, from);
    for (const e of r.entries) {
      const key = `o${e.off}`;
      if (st.done.has(key) && !st.dead.has(key)) continue;
      if (!rows.has(key)) row(key, e.off, e.line);
    }
    if (r.next === from || r.entries.length + r.bad.length === 0) break;
    from = r.next;
    seg = r.seg;
  }
  return [...rows.values()].sort((a, b) => a.off - b.off).map(({ off: _off, ...rest }) => rest);
}

/** The ledger `dispatcher pending` and `retry` read: of the chosen backend, else the newest one. */
function chosenLedger(opts: BackendFlags, setup: DispatchSetup): string {
  // Without --backend or credentials here, read the ledger of whichever backend delivered last.
  return opts.backend ? setup.ledgerPath : newestLedger(setup.ledgerPath);
}

/** What `autosentry dispatcher pending` does (its options are declared in src/cli/tree/dispatcher.ts). */
export function dispatcherPendingCommand(opts: DispatcherPendingOptions): void {
  const cfg = loadConfigForCli(opts);
  const setup = setupOrExit(cfg, opts);
  const chosen = chosenLedger(opts, setup);
  const rows = pendingRows(setup.outboxPath, new Ledger(chosen).state);
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
  const dead = rows.filter((r) => r.dead).length;
  process.stdout.write(
    `${rows.length} pending in ${setup.outboxPath} (ledger ${path.basename(chosen)})${dead > 0 ? `; \`autosentry dispatcher retry\` sends the ${dead} given up again` : ""}\n`,
  );
}

/** `dispatcher retry`'s options. */
interface DispatcherRetryOptions extends BackendFlags, ConfigFlag {
  json?: boolean | undefined;
}

/**
 * What `autosentry dispatcher retry [ids...]` does: ask the dispatcher to deliver given-up
 * messages again (all of them, or those named by their outbox id as `pending` shows it, or their
 * ledger key `o<n>`). It writes a request the lock holder takes on its next pass
 * (src/dispatcher/retry-requests.ts); it never writes the ledger itself.
 */
export function dispatcherRetryCommand(ids: string[], opts: DispatcherRetryOptions): void {
  const cfg = loadConfigForCli(opts);
  const setup = setupOrExit(cfg, opts);
  const chosen = chosenLedger(opts, setup);
  const dead = pendingRows(setup.outboxPath, new Ledger(chosen).state).filter((r) => r.dead);
  let picked = dead;
  if (ids.length > 0) {
    const unknown = ids.filter((id) => !dead.some((r) => r.id === id || r.key === id));
    if (unknown.length > 0)
      throw new CliExit(
        EXIT.usage,
        `autosentry dispatcher retry: not given up in ${setup.outboxPath} (ledger ${path.basename(chosen)}): ${unknown.join(", ")} — \`autosentry dispatcher pending\` lists what is`,
      );
    picked = dead.filter((r) => ids.includes(r.id) || ids.includes(r.key));
  }
  const lock = readLock(setup.lockPath);
  const running = lock !== null && ownerAlive(lock);
  if (picked.length > 0)
    requestRetries(
      retryRequestsPath(setup.lockPath),
      picked.map((r) => r.key),
    );
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ outbox: setup.outboxPath, ledger: chosen, queued: picked, dispatcher_running: running }, null, 2)}\n`,
    );
    return;
  }
  if (picked.length === 0) {
    process.stdout.write(`nothing given up in ${setup.outboxPath} (ledger ${path.basename(chosen)})\n`);
    return;
  }
  for (const r of picked) process.stdout.write(`${r.id}  [${r.kind}] ${r.summary}  — queued again\n`);
  process.stdout.write(
    `${picked.length} given-up message(s) queued again; ${
      running
        ? "the running dispatcher sends them on its next pass"
        : "`autosentry dispatcher run` (or the monitor with dispatch.bridge) sends them when it next runs"
    }\n`,
  );
}
