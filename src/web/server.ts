/**
 * @module
 * Starting the viewer: choose the projects, settle authentication (a token is required for any
 * non-loopback address, and the server refuses to start without one), start the file poller and
 * `Bun.serve`. Used by `autosentry web` and by the benchmark.
 */
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
  // Rendering leaves garbage that JavaScriptCore collects lazily, so a viewer that served a burst
  // of pages would keep the heap it grew for them. After a quiet second following at least 20
  // requests, a full collection returns it (measured in scripts/bench/web.ts).
  let sinceGc = 0;
  let gcTimer: ReturnType<typeof setTimeout> | null = null;
  let served = 0;
  const fetch = (req: Request) => {
    // During a long burst too: a full collection every 50 requests (a few ms; the benchmark's
    // medians include these pauses) keeps the heap from growing for the whole burst.
    if (++served % 50 === 0) Bun.gc(true);
    if (++sinceGc >= 20) {
      if (gcTimer) clearTimeout(gcTimer);
      gcTimer = setTimeout(() => {
        gcTimer = null;
        sinceGc = 0;
        Bun.gc(true);
      }, 1000);
      gcTimer.unref?.();
    }
    return app.fetch(req);
  };
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
