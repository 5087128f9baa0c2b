/**
 * @module
 * Building the `sbatch` command line for one launch and finding the job's output files.
 *
 * `process.command` is either an sbatch invocation (`[sbatch, --time=1:00:00, train.sbatch]`) or
 * a bare batch script with its arguments (`[train.sbatch, --lr, 0.1]`), which is submitted as
 * `sbatch train.sbatch --lr 0.1`.
 *
 * Decisions (for docs/compat.md):
 * - The env overlay reaches the job through `--export`, by *name* only: the values travel in
 *   sbatch's own environment, never on a command line (`ps` shows command lines). The job's export
 *   mode is respected and extended: a command-line `--export=X`, else `SBATCH_EXPORT`, else an
 *   `#SBATCH --export=X` line of the script, becomes `--export=X,KEY1,KEY2`; without any, `ALL`
 *   (SLURM's default) is made explicit as `--export=ALL,KEY1,…`. So a script that asks for a clean
 *   environment (`NONE`) keeps it and still gets the overlay.
 * - `--wait` is refused (sbatch would block until the job ends; autosentry follows the job itself)
 *   and so are job arrays (one monitor follows one job; supervise each array task separately).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { accountName } from "../../util/account.ts";

/** Short options that take no value (`-H`, `-Q`, …); every other short option takes one. */
const SHORT_NO_VALUE = new Set(["h", "H", "O", "s", "Q", "v", "V", "W", "k"]);

/** Long options that take no value, or only an optional `=value` (never the next word). */
const LONG_NO_VALUE = new Set([
  "contiguous",
  "exclusive",
  "get-user-env",
  "help",
  "hold",
  "ignore-pbs",
  "nice",
  "no-kill",
  "no-requeue",
  "overcommit",
  "oversubscribe",
  "parsable",
  "propagate",
  "quiet",
  "reboot",
  "requeue",
  "spread-job",
  "test-only",
  "usage",
  "use-min-nodes",
  "verbose",
  "version",
  "wait",
]);

/** Short spellings of the long options this module reads. */
const SHORT_TO_LONG: Record<string, string> = {
  o: "output",
  e: "error",
  J: "job-name",
  D: "chdir",
  a: "array",
  W: "wait",
};

/** One parsed sbatch option: where it is in argv, its long name and its value. */
interface ParsedOption {
  /** Index of the option word. */
  index: number;
  /** How many argv words it uses (1, or 2 when the value is the next word). */
  words: number;
  name: string;
  value: string | null;
}

export interface SbatchCommand {
  /** The full argv, starting with the sbatch executable. */
  argv: string[];
  /** Options given before the script (or `--wrap`). */
  options: ParsedOption[];
  /** Index of the batch script in argv; null with `--wrap`. */
  scriptIndex: number | null;
}

/** True when `argv0` names sbatch (`sbatch`, `/usr/bin/sbatch`). */
export function isSbatch(argv0: string): boolean {
  return path.basename(argv0) === "sbatch";
}

/** Split an sbatch argv into its options and the script. */
export function parseSbatchArgv(argv: string[]): SbatchCommand {
  const options: ParsedOption[] = [];
  let i = 1;
  let scriptIndex: number | null = null;
  while (i < argv.length) {
    const w = argv[i]!;
    if (w === "--") {
      scriptIndex = i + 1 < argv.length ? i + 1 : null;
      break;
    }
    if (w.startsWith("--")) {
      const eq = w.indexOf("=");
      const name = eq >= 0 ? w.slice(2, eq) : w.slice(2);
      if (eq >= 0) {
        options.push({ index: i, words: 1, name, value: w.slice(eq + 1) });
        i += 1;
      } else if (LONG_NO_VALUE.has(name)) {
        options.push({ index: i, words: 1, name, value: null });
        i += 1;
      } else {
        options.push({ index: i, words: 2, name, value: argv[i + 1] ?? null });
        i += 2;
      }
      continue;
    }
    if (w.startsWith("-") && w.length > 1) {
      // A cluster of short options: `-HQ`, `-o out.log`, `-oout.log`, `-n4`.
      let j = 1;
      let consumed = 1;
      while (j < w.length) {
        const c = w[j]!;
        const name = SHORT_TO_LONG[c] ?? c;
        if (SHORT_NO_VALUE.has(c)) {
          options.push({ index: i, words: 1, name, value: null });
          j += 1;
          continue;
        }
        const rest = w.slice(j + 1);
        if (rest !== "") {
          options.push({ index: i, words: 1, name, value: rest.replace(/^=/, "") });
        } else {
          options.push({ index: i, words: 2, name, value: argv[i + 1] ?? null });
          consumed = 2;
        }
        break;
      }
      i += consumed;
      continue;
    }
    scriptIndex = i;
    break;
  }
  return { argv, options, scriptIndex };
}

/** The value of the last occurrence of option `name` (later options win, as in sbatch). */
function optionValue(options: ParsedOption[], name: string): string | null | undefined {
  let v: string | null | undefined;
  for (const o of options) if (o.name === name) v = o.value;
  return v;
}

/** `#SBATCH` directives of a batch script (they end at the first command line). */
export function scriptDirectives(scriptText: string): ParsedOption[] {
  const words: string[] = ["sbatch"];
  for (const line of scriptText.split("\n")) {
    const t = line.trim();
    if (t === "" || (t.startsWith("#") && !t.startsWith("#SBATCH"))) continue;
    if (!t.startsWith("#SBATCH")) break;
    const body = t.slice("#SBATCH".length).trim();
    for (const w of body.split(/\s+/)) {
      if (w.startsWith("#")) break;
      if (w) words.push(w);
    }
  }
  return parseSbatchArgv(words).options;
}

export interface BuildResult {
  argv: string[];
  /** Parsed options of the final argv. */
  command: SbatchCommand;
  /** `#SBATCH` options of the script (empty with `--wrap` or an unreadable script). */
  directives: ParsedOption[];
  /** Absolute path of the batch script, when there is one. */
  scriptPath: string | null;
}

/**
 * The sbatch argv for `command` (see the module comment), with `--export` extended by the names in
 * `exportKeys`. `env` is the environment sbatch will run with (for `SBATCH_EXPORT`). Throws an
 * Error whose message says what is wrong with the command.
 */
export function buildSbatchArgv(
  command: string[],
  cwd: string,
  exportKeys: string[],
  env: Record<string, string>,
): BuildResult {
  if (command.length === 0 || command[0] === "") throw new Error("the command is empty");
  const base = isSbatch(command[0]!) ? [...command] : ["sbatch", ...command];
  const parsed = parseSbatchArgv(base);
  if (parsed.options.some((o) => o.name === "wait")) {
    throw new Error("sbatch --wait is not supported: autosentry follows the job itself; remove --wait");
  }
  const wrap = optionValue(parsed.options, "wrap");
  if (parsed.scriptIndex === null && wrap === undefined) {
    throw new Error(`no batch script in the sbatch command: ${base.join(" ")}`);
  }
  let scriptPath: string | null = null;
  let directives: ParsedOption[] = [];
  if (parsed.scriptIndex !== null && wrap === undefined) {
    // sbatch reads the script relative to its own working directory (not --chdir).
    scriptPath = path.resolve(cwd, base[parsed.scriptIndex]!);
    let text: string;
    try {
      text = fs.readFileSync(scriptPath, "utf8");
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message;
      throw new Error(`cannot read the batch script ${scriptPath}: ${why}`);
    }
    directives = scriptDirectives(text);
  }
  const all = [...directives, ...parsed.options];
  if (all.some((o) => o.name === "array")) {
    throw new Error(
      "job arrays (--array) are not supported: one monitor follows one job; supervise each task separately",
    );
  }

  const argv = [...base];
  const keys = [...new Set(exportKeys)].sort();
  if (keys.length > 0) {
    const cli = parsed.options.filter((o) => o.name === "export");
    const last = cli[cli.length - 1];
    if (last !== undefined) {
      const merged = `--export=${mergeExport(last.value ?? "ALL", keys)}`;
      // Drop every command-line --export (the last one wins in sbatch) and put the merged one in its place.
      for (let k = cli.length - 1; k >= 0; k--) {
        const o = cli[k]!;
        if (o === last) argv.splice(o.index, o.words, merged);
        else argv.splice(o.index, o.words);
      }
    } else {
      const fromEnv = env["SBATCH_EXPORT"];
      const fromScript = optionValue(directives, "export");
      const mode = fromEnv ?? fromScript ?? "ALL";
      argv.splice(1, 0, `--export=${mergeExport(mode, keys)}`);
    }
  }
  return { argv, command: parseSbatchArgv(argv), directives, scriptPath };
}

/** `NONE` + [A, B] → `NONE,A,B`; names already listed are not repeated. */
export function mergeExport(mode: string, keys: string[]): string {
  const parts = mode
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const named = new Set(parts.map((p) => p.split("=")[0]));
  const extra = keys.filter((k) => !named.has(k));
  return [...(parts.length > 0 ? parts : ["ALL"]), ...extra].join(",");
}

/**
 * Expand an sbatch filename pattern for a non-array job (`%j`, `%x`, `%u`, `%A`, `%a`, `%%`).
 * Patterns that name nodes or tasks (`%N`, `%n`, `%t`, `%s`) are left alone.
 */
export function expandFilenamePattern(pattern: string, jobId: string, jobName: string): string {
  return pattern.replace(/%(\d*)([%jxuAa])/g, (_m, width: string, c: string) => {
    const pad = (s: string) => (width ? s.padStart(Number(width), "0") : s);
    switch (c) {
      case "%":
        return "%";
      case "j":
      case "A":
        return pad(jobId);
      case "a":
        return pad("4294967294");
      case "x":
        return jobName;
      default:
        return accountName();
    }
  });
}

/**
 * The job's stdout and stderr files as sbatch will write them, read from the command line and the
 * script's directives (used when `scontrol show job` cannot tell). stderr is null when it goes to
 * the stdout file.
 */
export function outputFilesFromArgs(
  build: BuildResult,
  jobId: string,
  cwd: string,
): { stdout: string; stderr: string | null } {
  const all = [...build.directives, ...build.command.options];
  const chdir = optionValue(all, "chdir");
  const workDir = chdir ? path.resolve(cwd, chdir) : cwd;
  const jobName =
    optionValue(all, "job-name") ??
    (build.scriptPath !== null
      ? path.basename(build.scriptPath)
      : optionValue(all, "wrap")
        ? "wrap"
        : "sbatch");
  const out = optionValue(all, "output") ?? "slurm-%j.out";
  const err = optionValue(all, "error");
  const stdout = path.resolve(workDir, expandFilenamePattern(out, jobId, jobName));
  const stderr = err ? path.resolve(workDir, expandFilenamePattern(err, jobId, jobName)) : null;
  return { stdout, stderr: stderr === stdout ? null : stderr };
}
