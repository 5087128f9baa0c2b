/**
 * @module
 * Shared pieces of the `autosentry web` browser tests: starting the viewer (the compiled binary)
 * and reading the URL it prints, and a headless Debian Chromium driven by playwright-core with the
 * flags this machine needs (no sandbox as root, no background networking) and a fresh profile.
 */
import { afterAll } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { BIN, REPO, testEnv } from "./helpers.ts";

export const CHROMIUM = process.env.AUTOSENTRY_CHROMIUM ?? "/usr/bin/chromium";
export const SHOTS = path.join(REPO, "tests", "output", "screenshots");

const procs: Array<ReturnType<typeof Bun.spawn>> = [];
const contexts: BrowserContext[] = [];
const profiles: string[] = [];

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
  for (const d of profiles) fs.rmSync(d, { recursive: true, force: true });
});

export interface WebProc {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
  /** Everything printed on stdout so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Start `autosentry web --port 0 …` in `cwd` and wait for its `listening on` line. */
export async function startWebProc(cwd: string, args: string[] = []): Promise<WebProc> {
  const proc = Bun.spawn([BIN, "web", "--port", "0", "--poll-ms", "200", ...args], {
    cwd,
    env: testEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  procs.push(proc);
  let out = "";
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  const deadline = Date.now() + 30_000;
  let url: string | null = null;
  while (url === null) {
    if (Date.now() > deadline) throw new Error(`autosentry web did not start: ${out}`);
    const { value, done } = await reader.read();
    if (done) {
      const err = await new Response(proc.stderr as ReadableStream).text();
      throw new Error(`autosentry web exited: ${out}${err}`);
    }
    out += dec.decode(value);
    // The start-up text (URL, token, login link) is one write, so it arrives whole up to its last newline.
    url = out.endsWith("\n") ? (/listening on (http:\/\/\S+\/)/.exec(out)?.[1] ?? null) : null;
  }
  // Keep draining stdout so the process never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += dec.decode(value);
    }
  })();
  return {
    url,
    proc,
    output: () => out,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** A fresh headless Chromium (its own empty profile). */
export async function launchBrowser(): Promise<BrowserContext> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "as-chromium-"));
  profiles.push(profile);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  contexts.push(ctx);
  return ctx;
}

/** What a page did wrong: console errors, uncaught exceptions, requests to anything but 127.0.0.1. */
export interface PageProblems {
  consoleErrors: string[];
  offHost: string[];
}

/** A new page that records its problems (see {@link PageProblems}). */
export async function watchedPage(ctx: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const page = await ctx.newPage();
  const problems: PageProblems = { consoleErrors: [], offHost: [] };
  page.on("console", (m) => {
    if (m.type() === "error") problems.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => problems.consoleErrors.push(`uncaught: ${e.message}`));
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol === "data:") return;
    if (u.hostname !== "127.0.0.1") problems.offHost.push(r.url());
  });
  return { page, problems };
}

/** Save a full-page screenshot as tests/output/screenshots/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
