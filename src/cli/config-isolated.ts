/**
 * @module
 * Loading the config for the monitor (`autosentry run`) in a short-lived child process, so that the
 * monitor itself never loads the `yaml` library and zod's schema (issue 13: the idle footprint).
 *
 * Why: loading and running the validator is most of what the idle monitor keeps in memory that it
 * does not need once it runs. Measured with compiled programs idling after the import: a bare
 * program 25 MB RSS, importing the config loader 41 MB, loading a config with it 54 MB; the
 * whole of `run`'s other code adds ~1.5 MB. Modules cannot be unloaded, so the validation runs in a
 * child (`autosentry __config`, dispatched by main.ts before the CLI loads) that validates exactly
 * as {@link loadConfigForCli} does (same loader, same environment for `$VAR`, same cwd) and hands
 * back the validated {@link LoadedConfig} (structured-clone bytes on stdout, so nothing is lost in
 * a JSON round trip) or the config's issues, which the monitor reports exactly as before
 * (`file:line:col: key: message`, exit code 2). Every start validates the whole file again: no
 * validated config is cached on disk (it holds expanded `$VAR` values, often secrets).
 * We chose this over the status command's cache (status-config.ts) for that reason, and because a
 * changed config needs no second code path. The cost is one extra short process at start (~60 ms
 * of CPU), not on the restart path. If the child cannot run or answers something unexpected, the
 * config is loaded in this process instead (the previous behaviour), so the monitor never fails
 * for it.
 */
import { deserialize, serialize } from "bun:jsc";
import { ConfigError, type ConfigIssue } from "../config/errors.ts";
import type { LoadedConfig } from "../config/load.ts";
import { selfCommand } from "../util/self-command.ts";
import { CliExit, EXIT } from "./exit.ts";

/** What the child is asked. */
export interface ConfigRequest {
  config?: string | undefined;
  cwd: string;
  allowMissing: boolean;
}

/** What the child answers. */
export type ConfigAnswer = { ok: LoadedConfig } | { issues: ConfigIssue[] };

/** The argv word main.ts dispatches to {@link runConfigChild}. */
export const CONFIG_CHILD = "__config";

/**
 * Like {@link loadConfigForCli}, with the validation in a child process: on a config error, print
 * it to stderr and throw `CliExit(2)`.
 */
export async function loadConfigIsolated(
  opts: { config?: string | undefined },
  { allowMissing = false }: { allowMissing?: boolean } = {},
): Promise<LoadedConfig> {
  const req: ConfigRequest = { config: opts.config, cwd: process.cwd(), allowMissing };
  const answer = askConfigChild(req);
  if (answer === null) {
    const { loadConfigForCli } = await import("./config-option.ts");
    return loadConfigForCli(opts, { allowMissing });
  }
  if ("issues" in answer) {
    process.stderr.write(`${new ConfigError(answer.issues).message}\n`);
    throw new CliExit(EXIT.usage);
  }
  return answer.ok;
}

/** The child's answer, or null when it could not be had (then the caller loads in-process). */
export function askConfigChild(req: ConfigRequest): ConfigAnswer | null {
  try {
    const r = Bun.spawnSync([...selfCommand(), CONFIG_CHILD, JSON.stringify(req)], {
      cwd: req.cwd,
      env: process.env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
    });
    if (r.exitCode !== 0 || r.stdout.length === 0) return null;
    const answer = deserialize(r.stdout) as ConfigAnswer;
    if (answer === null || typeof answer !== "object") return null;
    if ("ok" in answer && answer.ok !== null && typeof answer.ok === "object") return answer;
    if ("issues" in answer && Array.isArray(answer.issues) && answer.issues.length > 0) return answer;
    return null;
  } catch {
    return null;
  }
}

/** `autosentry __config REQUEST`: validate and write the answer to stdout; the exit code. */
export async function runConfigChild(args: string[]): Promise<number> {
  const req = JSON.parse(args[0] ?? "{}") as ConfigRequest;
  const { loadConfig } = await import("../config/load.ts");
  let answer: ConfigAnswer;
  try {
    answer = { ok: loadConfig({ path: req.config, cwd: req.cwd, allowMissing: req.allowMissing }) };
  } catch (err) {
    if (!(err instanceof ConfigError)) return 1;
    answer = { issues: err.issues };
  }
  const bytes = new Uint8Array(serialize(answer));
  let off = 0;
  const fs = await import("node:fs");
  while (off < bytes.length) off += fs.writeSync(1, bytes, off);
  return 0;
}
