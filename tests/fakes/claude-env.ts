/**
 * @module
 * The real `claude` CLI pointed at the fake Messages API, for tests: starts the fake before the
 * file's tests and stops it after, gives the CLI a private HOME, and builds the environment that
 * keeps it offline (only 127.0.0.1) with one retry.
 */
import { afterAll, beforeAll } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type FakeAnthropic, startFakeAnthropic } from "./anthropic.ts";

/** node_modules/.bin of this repository (where the pinned `claude` devDependency lives). */
export const NODE_BIN = path.resolve(import.meta.dir, "../../node_modules/.bin");
/** The pinned Claude Code CLI. */
export const CLAUDE = path.join(NODE_BIN, "claude");

export interface FakeClaude {
  /** The fake server (valid inside tests). */
  readonly fake: FakeAnthropic;
  /** The CLI's private HOME. */
  readonly home: string;
  /** Environment for the CLI: PATH (with node_modules/.bin first when `withBin`), HOME, the fake's URL. */
  env(extra?: Record<string, string>, opts?: { withBin?: boolean }): Record<string, string>;
}

/** Register beforeAll/afterAll hooks that run a fake Messages API for this test file. */
export function useFakeClaude(prefix = "autosentry-claude-home-"): FakeClaude {
  let fake: FakeAnthropic | null = null;
  let home = "";
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(async () => {
    await fake?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });
  return {
    get fake() {
      if (!fake) throw new Error("useFakeClaude: the fake server is only available inside tests");
      return fake;
    },
    get home() {
      return home;
    },
    env(extra = {}, opts = {}) {
      const base = process.env.PATH ?? "/usr/bin:/bin";
      return {
        PATH: opts.withBin ? `${NODE_BIN}:${base}` : base,
        HOME: home,
        ANTHROPIC_BASE_URL: fake?.url ?? "",
        ANTHROPIC_API_KEY: "dummy",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_ERROR_REPORTING: "1",
        CLAUDE_CODE_MAX_RETRIES: "1",
        ...extra,
      };
    },
  };
}
