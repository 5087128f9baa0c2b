/**
 * @module
 * Who may use the viewer. Bound to a loopback address (the default) nobody needs a token, but the
 * Host header must name a loopback host (a DNS-rebinding page cannot talk to it). Bound to any
 * other address, a token is required and the server refuses to start without one: it is made by
 * `autosentry web --new-token`, printed once, and kept in a file of mode 0600 (a file that others
 * can read is refused, as ssh refuses a readable key). A request shows it as
 * `Authorization: Bearer <token>`, or follows a one-time login link (printed at start; valid 10
 * minutes, once) that sets an HttpOnly SameSite=Strict session cookie.
 *
 * Every state change is a POST that must carry the server's anti-CSRF token (`X-CSRF-Token`
 * header or a `_csrf` form field), and its Origin, when sent, must be the viewer's own.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import { writeFileAtomicSync } from "../util/atomic-write.ts";

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Read the token file; null when missing. Throws when it is readable by others or empty. */
export function readTokenFile(file: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return null;
  }
  if ((st.mode & 0o077) !== 0) {
    throw new Error(
      `Cannot use the web token: ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 on it or make a new one with --new-token`,
    );
  }
  const token = fs.readFileSync(file, "utf8").trim();
  if (!/^[A-Za-z0-9_-]{32,}$/.test(token))
    throw new Error(`Cannot use the web token: ${file} holds no valid token`);
  return token;
}

/** Make a new token and store it (mode 0600, atomically); returns it. */
export function createTokenFile(file: string): string {
  const token = randomBytes(32).toString("base64url");
  writeFileAtomicSync(file, `${token}\n`, 0o600);
  fs.chmodSync(file, 0o600);
  return token;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const COOKIE = "autosentry_session";
const LINK_TTL_MS = 10 * 60_000;

function cookieValue(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

export interface GuardOptions {
  /** The token, or null when the viewer is loopback-only and needs none. */
  token: string | null;
  /** Bound to loopback: check that the Host header is a loopback name. */
  loopback: boolean;
}

/** Per-process authentication state: sessions, one-time links, the CSRF token. */
export class Guard {
  readonly csrf = randomBytes(24).toString("base64url");
  private readonly sessions = new Set<string>();
  private readonly links = new Map<string, number>();

  constructor(readonly opts: GuardOptions) {}

  get tokenRequired(): boolean {
    return this.opts.token !== null;
  }

  /** A new one-time login path (`/login?once=…`). */
  newLoginLink(): string {
    const once = randomBytes(24).toString("base64url");
    this.links.set(once, Date.now() + LINK_TTL_MS);
    return `/login?once=${once}`;
  }

  /** Consume a one-time link; returns the Set-Cookie value for a new session, or null. */
  redeem(once: string): string | null {
    const exp = this.links.get(once);
    if (exp === undefined) return null;
    this.links.delete(once);
    if (Date.now() > exp) return null;
    const sid = randomBytes(32).toString("base64url");
    this.sessions.add(sid);
    return `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** Whether the request's Host header is acceptable (loopback binds: a loopback name only). */
  hostAllowed(hostHeader: string | null | undefined): boolean {
    if (!this.opts.loopback) return true;
    if (!hostHeader) return false;
    const host = hostHeader.startsWith("[")
      ? hostHeader.slice(0, hostHeader.indexOf("]") + 1)
      : hostHeader.split(":")[0]!;
    return isLoopbackHost(host);
  }

  /** Whether the request is authenticated (always, when no token is required). */
  authenticated(headers: Headers): boolean {
    const token = this.opts.token;
    if (token === null) return true;
    const auth = headers.get("authorization");
    if (auth?.startsWith("Bearer ") && same(auth.slice(7).trim(), token)) return true;
    const sid = cookieValue(headers.get("cookie"), COOKIE);
    return sid !== null && this.sessions.has(sid);
  }

  /** Whether a POST carries the CSRF token and, if it names an origin, the viewer's own. */
  csrfValid(headers: Headers, formToken: string | null, selfOrigin: string): boolean {
    const origin = headers.get("origin");
    if (origin && origin !== selfOrigin) return false;
    const given = headers.get("x-csrf-token") ?? formToken;
    return given !== null && same(given, this.csrf);
  }
}

/** The Content-Security-Policy of every page: nothing inline, nothing from elsewhere. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Headers every response gets. */
export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on the form POSTs, which the
  // origin check must then refuse; same-origin still sends nothing to other sites.
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};
