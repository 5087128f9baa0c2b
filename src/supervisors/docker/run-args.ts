/**
 * @module
 * Building the `docker run` command line for one launch.
 *
 * `process.command` is either a docker invocation (`[docker, run, -v, ./data:/data, image, cmd…]`,
 * also `docker container run` and `podman run`) or, shorter, the image and its command
 * (`[localhost/busybox, sh, -c, …]`), which becomes `docker run -d --name <name> image sh -c …`.
 * `{name}` is replaced by the container name everywhere in the command (in a `--name` of the
 * command, by `process.extra.container_name` or the default `autosentry-<8 hex>`).
 *
 * Decisions (for docs/compat.md):
 * - The variables autosentry sets (`process.env` and the env overlay) are passed into the container
 *   as `-e KEY`, by name: docker reads the value from its own environment, so values (tokens) never
 *   appear on a command line. An `-e KEY=…`/`--env KEY=…` of the user's command for the same key is
 *   dropped, so the overlay of `restart_with_env` wins.
 * - `-d` is added when missing (autosentry follows the container itself).
 * - `--rm` is removed: a removed container has no exit code to read, and a dead container must
 *   never pass for a success. autosentry removes its stopped container before the next launch.
 * - A `--name` in the command is kept and used; otherwise `--name <name>` is added.
 */
import * as path from "node:path";

export interface DockerRun {
  argv: string[];
  /** The container name the command will create. */
  name: string;
  /** Problems worth a warning (`--rm` removed, `-t` merges stdout and stderr). */
  warnings: string[];
}

/** Options of `docker run` that take no value; every other option takes one. */
const RUN_FLAGS = new Set([
  "-d",
  "--detach",
  "-i",
  "--interactive",
  "-t",
  "--tty",
  "--rm",
  "--init",
  "--privileged",
  "-P",
  "--publish-all",
  "--read-only",
  "--no-healthcheck",
  "--oom-kill-disable",
  "--sig-proxy",
  "-q",
  "--quiet",
  "--help",
  "--use-api-socket",
]);

/** True when `argv0` names the docker (or podman) CLI. */
export function isDockerCli(argv0: string): boolean {
  const b = path.basename(argv0);
  return b === "docker" || b === "podman";
}

/** Index of the `run` subcommand in a docker argv, or -1. */
function runIndex(argv: string[]): number {
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === "run") return i;
    if (w === "container") continue;
    if (w.startsWith("-")) {
      // Global options with a value (`--context x`, `-H host`, `--config dir`, `-l level`).
      if (
        !w.includes("=") &&
        ["--context", "-c", "-H", "--host", "--config", "-l", "--log-level"].includes(w)
      )
        i++;
      continue;
    }
    return -1;
  }
  return -1;
}

/** The variable name of an `-e`/`--env` value (`KEY=v` or `KEY`). */
function envName(v: string): string {
  const eq = v.indexOf("=");
  return eq >= 0 ? v.slice(0, eq) : v;
}

/**
 * The `docker run` argv for `command` with container name `defaultName` (used unless the command
 * names its own), passing `envKeys` into the container. Throws when the command cannot be used.
 */
export function buildDockerRun(command: string[], defaultName: string, envKeys: string[]): DockerRun {
  if (command.length === 0 || command[0] === "") throw new Error("the command is empty");
  const warnings: string[] = [];
  let base: string[];
  let ri: number;
  if (isDockerCli(command[0]!)) {
    ri = runIndex(command);
    if (ri < 0) throw new Error(`the docker command must be a \`docker run …\`: ${command.join(" ")}`);
    base = [...command];
  } else {
    base = ["docker", "run", ...command];
    ri = 1;
  }

  // Walk the run options (up to the image) to find -d, --rm, --name, -e and -t.
  const keys = new Set(envKeys);
  const head = base.slice(0, ri + 1);
  const opts: string[] = [];
  let i = ri + 1;
  let name: string | null = null;
  let nameAt = -1;
  let detach = false;
  let imageFound = false;
  while (i < base.length) {
    const w = base[i]!;
    if (w === "--") {
      i++;
      imageFound = i < base.length;
      break;
    }
    if (!w.startsWith("-") || w === "-") {
      imageFound = true;
      break;
    }
    const eq = w.indexOf("=");
    const flag = w.startsWith("--") && eq >= 0 ? w.slice(0, eq) : w;
    const inline = w.startsWith("--") && eq >= 0 ? w.slice(eq + 1) : null;
    // Short clusters such as `-dit`: every letter is a flag.
    const cluster = /^-[a-zA-Z]{2,}$/.test(w) && [...w.slice(1)].every((c) => RUN_FLAGS.has(`-${c}`));
    if (cluster) {
      for (const c of w.slice(1)) {
        if (c === "d") detach = true;
        if (c === "t") warnings.push("-t gives the container a terminal, which merges stderr into stdout");
      }
      opts.push(w);
      i++;
      continue;
    }
    if (RUN_FLAGS.has(flag)) {
      if (flag === "--rm") {
        warnings.push(
          "--rm was removed: the container is kept until the next launch so its exit code can be read",
        );
      } else {
        if (flag === "-d" || flag === "--detach") detach = true;
        if (flag === "-t" || flag === "--tty") {
          warnings.push("-t gives the container a terminal, which merges stderr into stdout");
        }
        opts.push(w);
      }
      i++;
      continue;
    }
    // An option with a value: `--name x`, `--name=x`, `-e K=V`, `-eK=V`.
    let value: string;
    let words: string[];
    if (inline !== null) {
      value = inline;
      words = [w];
      i++;
    } else if (/^-[a-zA-Z]./.test(w) && !w.startsWith("--")) {
      value = w.slice(2);
      words = [w];
      i++;
    } else {
      value = base[i + 1] ?? "";
      words = [w, value];
      i += 2;
    }
    const short = w.startsWith("--") ? flag : w.slice(0, 2);
    if (short === "--name") {
      // Kept as `--name=<value>` so it is not confused with other words below.
      name = value;
      nameAt = opts.length;
      opts.push("--name=");
      continue;
    }
    if ((short === "-e" || short === "--env") && keys.has(envName(value))) continue;
    opts.push(...words);
  }
  if (!imageFound) throw new Error(`no image in the docker run command: ${base.join(" ")}`);
  const rest = base.slice(i);

  const resolvedName = (name ?? defaultName).replaceAll("{name}", defaultName);
  const added: string[] = [];
  if (!detach) added.push("-d");
  if (name === null) added.push("--name", resolvedName);
  for (const k of [...keys].sort()) added.push("-e", k);
  // `{name}` is the container's name everywhere; in `--name` itself it is the configured or default name.
  const sub = (a: string) => a.replaceAll("{name}", resolvedName);
  const argv = [
    ...head.map(sub),
    ...added,
    ...opts.map((a, k) => (k === nameAt ? `--name=${resolvedName}` : sub(a))),
    ...rest.map(sub),
  ];
  return { argv, name: resolvedName, warnings };
}
