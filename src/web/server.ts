/**
 * @module
 * Starting the viewer: choose the projects, settle authentication (a token is required for any
 * non-loopback address, and the server refuses to start without one), start the file poller and
 * `Bun.serve`. Used by `autosentry web` and by the benchmark.
 */
import { edenGC, heapSize } from "bun:jsc";
import * as path from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import { buildApp } from "./app.tsx";
import { createTokenFile, Guard, isLoopbackHost, readTokenFile } from "./auth.ts";
import { LiveHub } from "./live.ts";
import { discoverProjects, singleProject, type WebProject } from "./project.ts";

export interface WebServerOptions {
  host: string;
  port: number;
  /** `--root DIR`; otherwise `config` names the one project. */
  root: string | null;
  config: LoadedConfig | null;
  /** Where the token is kept; default next to the project's state (or in DIR for `--root`). */
  tokenFile?: string | undefined;
  /** Make a new token (printed once by the caller). */
  newToken?: boolean | undefined;
  pollMs?: number | undefined;
  /**
   * JavaScriptCore's tier-up scale while serving ({@link SERVING_JIT_POLICY} by default), set once
   * the indexes are read; null leaves the process's policy alone.
   */
  jitPolicy?: number | null | undefined;
}

export interface RunningWeb {
  url: string;
  projects: WebProject[];
  errors: string[];
  /** The new token when one was made now (to print once), else null. */
  newToken: string | null;
  tokenFile: string | null;
  /** A one-time login path when a token is required, else null. */
  loginPath: string | null;
  stop(): Promise<void>;
}

/** Thrown for a start-up problem the user can fix (printed without a stack trace). */
export class WebStartError extends Error {}

/** The default token file: `<project>/.autosentry/web-token`, or `DIR/.autosentry-web-token` for `--root`. */
export function defaultTokenFile(opts: WebServerOptions): string {
  if (opts.root) return path.join(path.resolve(opts.root), ".autosentry-web-token");
  return path.join(path.dirname(opts.config!.data.state_path), "web-token");
}

/**
 * The JIT policy of a serving viewer: tier-up thresholds 100 times the default. Optimising a
 * page's render code costs the JIT compiler's memory and the optimised code; with the default
 * policy the first few hundred requests after start grew the resident size by 10-15 MB for that,
 * which took the peak near the 100 MB budget. With it a list page still renders in about a
 * millisecond, and the journal's scans (100,000 iterations a request, which still reach the
 * optimising tiers) take 2-4 ms instead of 1-1.5. The indexes are read at start with the default
 * policy. Measured with scripts/bench/web.ts (docs/benchmarks.md, web section).
 */
export const SERVING_JIT_POLICY = 100;

/** A young-generation collection every this many requests (a fraction of a millisecond each). */
const EDEN_EVERY = 4;
/** A full collection once the heap grew this much past its size after the last one. */
const FULL_AFTER_GROWTH = 2 * 1024 * 1024;

/**
 * `handle` with the viewer's garbage policy. JavaScriptCore collects lazily: a burst of page
 * renders (100-250 KB of short-lived objects and strings each) grew the resident size by 20-30 MB
 * before a collection freed it, and the peak (VmHWM) passed the 100 MB budget although the live
 * heap is ~20 MB. Page garbage dies young, so a synchronous eden collection every
 * {@link EDEN_EVERY} requests frees it before the allocator asks the system for more; what eden
 * collections promote is freed by a full collection when the heap has grown by
 * {@link FULL_AFTER_GROWTH}, and after a quiet second following at least 20 requests (so a viewer
 * that idles for days holds only what its indexes need). Measured in scripts/bench/web.ts.
 */
function collectingGarbage(handle: (req: Request) => Response | Promise<Response>) {
  let served = 0;
  let sinceIdleGc = 0;
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  let afterFull = heapSize();
  const full = () => {
    Bun.gc(true);
    afterFull = heapSize();
  };
  return (req: Request) => {
    if (++served % EDEN_EVERY === 0 && edenGC() - afterFull > FULL_AFTER_GROWTH) full();
    if (++sinceIdleGc >= 20) {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idleTimer = null;
        sinceIdleGc = 0;
        full();
      }, 1000);
      idleTimer.unref?.();
    }
    return handle(req);
  };
}

export function startWeb(opts: WebServerOptions): RunningWeb {
  const found = opts.root
    ? discoverProjects(opts.root)
    : { projects: [singleProject(opts.config!)], errors: [] as string[] };
  // Reading a long journal and index leaves garbage behind; collecting it now keeps the resident
  // size of a viewer that will idle for days near what the indexes need.
  Bun.gc(true);
  const loopback = isLoopbackHost(opts.host);
  const tokenFile = opts.tokenFile ? path.resolve(opts.tokenFile) : defaultTokenFile(opts);
  let token: string | null = null;
  let newToken: string | null = null;
  if (opts.newToken) {
    newToken = createTokenFile(tokenFile);
    token = newToken;
  } else if (!loopback) {
    try {
      token = readTokenFile(tokenFile);
    } catch (err) {
      throw new WebStartError((err as Error).message);
    }
    if (token === null) {
      throw new WebStartError(
        `Refusing to listen on ${opts.host} without a token: anyone who can reach it could read the incidents and pause the job. ` +
          `Make one with \`autosentry web --host ${opts.host} --new-token\` (it is printed once and kept in ${tokenFile}, mode 0600), or bind to 127.0.0.1`,
      );
    }
  }
  const guard = new Guard({ token, loopback });
  const hub = new LiveHub(found.projects, opts.pollMs ?? 500);
  const app = buildApp({ projects: found.projects, root: opts.root, errors: found.errors, guard, hub });
  const fetch = collectingGarbage(app.fetch);
  if (opts.jitPolicy !== null) Bun.unsafe.setJITPolicy(opts.jitPolicy ?? SERVING_JIT_POLICY);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: opts.host, port: opts.port, fetch, idleTimeout: 60 });
  } catch (err) {
    throw new WebStartError(`Cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`);
  }
  hub.start();
  const shownHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${server.port}/`,
    projects: found.projects,
    errors: found.errors,
    newToken,
    tokenFile: token !== null ? tokenFile : null,
    loginPath: token !== null ? guard.newLoginLink() : null,
    async stop() {
      hub.stop();
      await server.stop(true);
    },
  };
}
