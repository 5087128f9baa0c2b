/**
 * @module
 * `autosentry install-service` / `uninstall-service`: run this project's monitor as a systemd user
 * unit (`~/.config/systemd/user/autosentry-<project>-<hash>.service`), so it starts at login (or at
 * boot with lingering) and is restarted if it is killed.
 *
 * - `Restart=on-abnormal`: a monitor killed by a signal or a crash is restarted; one that stops on
 *   purpose (the work completed, autosentry gave up, an operator aborted) is not, whatever its
 *   exit code, or systemd would undo every give-up.
 * - `KillMode=mixed`: `systemctl stop` sends SIGTERM to the monitor only, which stops its child
 *   the way it always does (SIGTERM to the child's process group, SIGKILL after
 *   stop_grace_seconds); whatever is left is killed after TimeoutStopSec.
 * - The unit carries this shell's PATH: a user unit otherwise gets systemd's minimal one, and the
 *   job's interpreter (a conda env, a module-loaded compiler) would not be found.
 *
 * Where systemd is not running (containers, many HPC login nodes, macOS) install refuses with one
 * line and writes nothing; `--print` shows the unit anywhere, and `--no-enable` only writes the
 * file (for a machine where you will enable it yourself). `$XDG_CONFIG_HOME` moves the unit
 * directory, as systemd's own lookup does. `AUTOSENTRY_SYSTEMD_RUN_DIR` replaces the
 * `/run/systemd/system` probe (tests use it to reach the systemctl path on a machine without systemd).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LoadedConfig } from "../../config/load.ts";
import { accountName } from "../../util/account.ts";
import { writeFileAtomicSync } from "../../util/atomic-write.ts";
import { selfCommand } from "../../util/self-command.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/** Why systemd cannot be used here, or null when it can (sd_booted(3) plus a systemctl binary). */
export function systemdUnavailable(env: Record<string, string | undefined> = process.env): string | null {
  const runDir = env.AUTOSENTRY_SYSTEMD_RUN_DIR ?? "/run/systemd/system";
  if (!fs.existsSync(runDir)) return `systemd is not running on this machine (no ${runDir})`;
  if (!Bun.which("systemctl", { PATH: env.PATH ?? "" })) return "systemctl is not on PATH";
  return null;
}

/** The unit's name for a project root: readable and unique per directory. */
export function unitName(root: string): string {
  const base =
    path
      .basename(root)
      .replace(/[^A-Za-z0-9_.-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "project";
  const hash = createHash("sha256").update(path.resolve(root)).digest("hex").slice(0, 8);
  return `autosentry-${base}-${hash}.service`;
}

/** The user-unit directory (`$XDG_CONFIG_HOME/systemd/user`). */
export function unitDir(env: Record<string, string | undefined> = process.env): string {
  const home = env.HOME && env.HOME !== "" ? env.HOME : os.homedir();
  const xdg =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : path.join(home, ".config");
  return path.join(xdg, "systemd", "user");
}

/** A word for ExecStart: quoted when it has to be; `%` and `$` are escaped from systemd's expansion. */
function unitWord(w: string): string {
  const escaped = w.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/(["\\])/g, "\\$1")}"`;
}

/** The unit file for this project's config. */
export function renderUnit(cfg: LoadedConfig, exec: string[], envPath: string | undefined): string {
  const args = [...exec, "run", ...(cfg.path ? ["-c", cfg.path] : [])];
  const stopSec = cfg.data.process.stop_grace_seconds + 30;
  const lines = [
    "# Written by `autosentry install-service`; `autosentry uninstall-service` removes it.",
    "[Unit]",
    `Description=autosentry supervising ${cfg.root}`,
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `WorkingDirectory=${unitWord(cfg.root)}`,
    `ExecStart=${args.map(unitWord).join(" ")}`,
    // A crash or a kill is restarted; a deliberate stop (done, gave up, aborted) is not.
    "Restart=on-abnormal",
    "RestartSec=30",
    // SIGTERM (143) and an operator abort (130) are clean ends.
    "SuccessExitStatus=130 143",
    "KillMode=mixed",
    `TimeoutStopSec=${stopSec}`,
    ...(envPath ? [`Environment=${unitWord(`PATH=${envPath}`)}`] : []),
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ];
  return lines.join("\n");
}

function systemctl(args: string[]): { ok: boolean; out: string } {
  const p = Bun.spawnSync(["systemctl", "--user", ...args], { stdout: "pipe", stderr: "pipe" });
  return { ok: p.exitCode === 0, out: `${p.stdout.toString()}${p.stderr.toString()}`.trim() };
}

/** The linger hint, when lingering is off (the unit would stop at logout). */
function lingerHint(): string | null {
  const user = accountName();
  const p = Bun.spawnSync(["loginctl", "show-user", user, "-p", "Linger"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (p.exitCode === 0 && p.stdout.toString().trim() === "Linger=yes") return null;
  return `to keep it running after you log out (and start it at boot): loginctl enable-linger ${user}`;
}

/** What `autosentry install-service` does (its options are declared in src/cli/tree/service.ts). */
export function installServiceCommand(
  opts: { print?: boolean | undefined; enable: boolean } & ConfigFlag,
): void {
  const cfg = loadConfigForCli(opts);
  const unit = renderUnit(cfg, selfCommand(), process.env.PATH);
  const name = unitName(cfg.root);
  if (opts.print) {
    process.stdout.write(unit);
    return;
  }
  const why = systemdUnavailable();
  if (why && opts.enable) {
    throw new CliExit(
      EXIT.failure,
      `autosentry install-service: ${why}: nothing was written. Run \`nohup autosentry run > /dev/null 2>&1 &\` (or submit it to your scheduler); \`autosentry install-service --print\` shows the unit, --no-enable writes it without enabling it`,
    );
  }
  const file = path.join(unitDir(), name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const before = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
  if (before !== unit) writeFileAtomicSync(file, unit);
  process.stdout.write(`${before === null ? "wrote" : before === unit ? "unchanged:" : "updated"} ${file}\n`);
  if (!opts.enable) {
    process.stdout.write(
      `enable it with: systemctl --user daemon-reload && systemctl --user enable --now ${name}\n`,
    );
    process.stdout.write(`to keep it running after you log out: loginctl enable-linger ${accountName()}\n`);
    return;
  }
  const reload = systemctl(["daemon-reload"]);
  const enable = reload.ok ? systemctl(["enable", "--now", name]) : reload;
  if (!enable.ok)
    throw new CliExit(EXIT.failure, `autosentry install-service: systemctl --user failed: ${enable.out}`);
  process.stdout.write(
    `enabled and started ${name}: systemctl --user status ${name}; journalctl --user -u ${name}\n`,
  );
  const hint = lingerHint();
  if (hint) process.stdout.write(`${hint}\n`);
}

/** What `autosentry uninstall-service` does (its options are declared in src/cli/tree/service.ts). */
export function uninstallServiceCommand(opts: ConfigFlag): void {
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  const name = unitName(cfg.root);
  const file = path.join(unitDir(), name);
  const why = systemdUnavailable();
  if (!why) {
    const stop = systemctl(["disable", "--now", name]);
    if (!stop.ok && fs.existsSync(file))
      throw new CliExit(EXIT.failure, `autosentry uninstall-service: systemctl --user failed: ${stop.out}`);
  }
  if (!fs.existsSync(file)) {
    process.stdout.write(`no ${file}: nothing to remove\n`);
    return;
  }
  fs.rmSync(file);
  if (!why) systemctl(["daemon-reload"]);
  process.stdout.write(`removed ${file}${why ? ` (${why}: nothing was running)` : ""}\n`);
}
