/**
 * @module
 * `autosentry web [--host H] [--port N] [--root DIR] [--new-token] [--token-file F]`: the browser
 * viewer served from the binary (src/web). Reads the project's files, so it works with or without
 * a running monitor; stops on Ctrl-C or SIGTERM.
 */
import * as fs from "node:fs";
import { type Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { startWeb, WebStartError } from "../../web/server.ts";
import { addConfigOption, loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("expected a port number (0-65535)");
  return n;
}

function interval(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 50) throw new InvalidArgumentError("expected milliseconds (at least 50)");
  return n;
}

export function register(program: Command): void {
  const cmd = program
    .command("web")
    .description("serve the incidents, events, attempts and live state in a browser (from this binary)")
    .option("--host <address>", "address to bind; any non-loopback address requires a token", "127.0.0.1")
    .option("--port <n>", "port (0 = any free port)", port, 8765)
    .option("--root <dir>", "show every project under DIR that has a .autosentry/ folder, side by side")
    .option("--new-token", "make a new access token, print it once and store it (mode 0600)")
    .option(
      "--token-file <path>",
      "where the token is kept (default .autosentry/web-token, or DIR/.autosentry-web-token)",
    )
    .option("--poll-ms <ms>", "how often the files are checked for changes", interval, 500);
  addConfigOption(cmd).action(async (opts) => {
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
  });
}
