/**
 * @module
 * `autosentry web [--host H] [--port N] [--root DIR] [--new-token] [--token-file F]`: the browser
 * viewer served from the binary (src/web). Reads the project's files, so it works with or without
 * a running monitor; stops on Ctrl-C or SIGTERM.
 */
import * as fs from "node:fs";
import { startWeb, WebStartError } from "../../web/server.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/** `web`'s options. */
interface WebCliOptions extends ConfigFlag {
  host: string;
  port: number;
  root?: string | undefined;
  newToken?: boolean | undefined;
  tokenFile?: string | undefined;
  pollMs: number;
}

/** What `autosentry web` does (its options are declared in src/cli/tree/web.ts). */
export async function webCommand(opts: WebCliOptions): Promise<void> {
  if (opts.root !== undefined && !fs.existsSync(opts.root)) {
    throw new CliExit(EXIT.usage, `autosentry web: --root ${opts.root}: no such directory`);
  }
  const config = opts.root === undefined ? loadConfigForCli(opts, { allowMissing: true }) : null;
  let web: ReturnType<typeof startWeb>;
  try {
    web = startWeb({
      host: opts.host,
      port: opts.port,
      root: opts.root ?? null,
      config,
      tokenFile: opts.tokenFile,
      newToken: opts.newToken,
      pollMs: opts.pollMs,
    });
  } catch (err) {
    if (err instanceof WebStartError) throw new CliExit(EXIT.usage, `autosentry web: ${err.message}`);
    throw err;
  }
  // One write, so whoever reads the first line (a script, a test) has the token and link too.
  const names = web.projects.map((p) => p.name).join(", ") || "no project found";
  let text = `autosentry web: listening on ${web.url} (${names})\n`;
  if (web.newToken) {
    text +=
      `access token (shown once, kept in ${web.tokenFile}): ${web.newToken}\n` +
      "send it as 'Authorization: Bearer <token>', or use the one-time link below\n";
  }
  if (web.loginPath)
    text += `one-time login link (valid 10 minutes): ${web.url.replace(/\/$/, "")}${web.loginPath}\n`;
  process.stdout.write(text);
  for (const e of web.errors) process.stderr.write(`autosentry web: skipped ${e}\n`);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await web.stop();
}
