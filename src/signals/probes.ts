/**
 * @module
 * Health probes of a service the child runs: an HTTP GET whose status must be 2xx or 3xx (redirects
 * are not followed: a 302 to a login page is an answer), or a TCP connect. Both resolve to a
 * {@link ProbeResult} and never reject; the timeout covers the whole attempt.
 */
import * as net from "node:net";

export interface ProbeResult {
  ok: boolean;
  /** What was seen: `HTTP 200`, `HTTP 503`, `connect ECONNREFUSED`, `timed out after 3s`. */
  detail: string;
}

/** GET `url`; healthy on 2xx/3xx. */
export async function httpProbe(url: string, timeoutMs: number): Promise<ProbeResult> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(url, { redirect: "manual", signal: ctl.signal });
    // read (and drop) the body so the connection is released
    await res.arrayBuffer().catch(() => undefined);
    return { ok: res.status >= 200 && res.status < 400, detail: `HTTP ${res.status}` };
  } catch (err) {
    if (ctl.signal.aborted) return { ok: false, detail: `timed out after ${timeoutMs / 1000}s` };
    const e = err as { code?: string; message?: string };
    return {
      ok: false,
      detail: e.code ? `request failed: ${e.code}` : `request failed: ${e.message ?? String(err)}`,
    };
  } finally {
    clearTimeout(t);
  }
}

/** Connect to `host:port`; healthy when the connection is accepted. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      sock.destroy();
      resolve(r);
    };
    const t = setTimeout(
      () => finish({ ok: false, detail: `timed out after ${timeoutMs / 1000}s` }),
      timeoutMs,
    );
    sock.once("connect", () => finish({ ok: true, detail: "connected" }));
    sock.once("error", (e: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: `connect ${e.code ?? e.message}` }),
    );
  });
}

/** Split `host:port` (`[::1]:80` for IPv6). Throws on a malformed address. */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port > 0 && port < 65536))
    throw new Error(`Invalid tcp address: ${JSON.stringify(s)} (want host:port)`);
  return { host: m[1]!, port };
}
