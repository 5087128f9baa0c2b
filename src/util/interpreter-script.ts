/**
 * @module
 * The script a command hands to a known interpreter (`python train.py`, `node server.js`,
 * `bash run.sh`, `Rscript fit.R`, `julia main.jl`, `bun x.ts`, `deno run -A main.ts`, …), so a
 * launch check can say "train.py does not exist" before the child fails with exit 2 on every
 * launch (issue 14 item 2). Options are skipped the way the interpreter reads them; a command that
 * runs no script file (`python -m pkg`, `node -e …`, `bash -c …`, `bun run dev`) has none.
 */
import * as path from "node:path";

interface Grammar {
  /** Options after which there is no script (code given inline, a module, stdin). */
  inline: readonly string[];
  /** Options that take the next word as their value. */
  valued: readonly string[];
  /** An option whose value is the script (`php -f x.php`, `java -jar app.jar`). */
  scriptOption?: string;
  /** Only words that look like files count (runners with subcommands: bun, deno). */
  filesOnly?: boolean;
}

const SHELL: Grammar = { inline: ["-c", "-s"], valued: ["-o", "-O", "+o", "+O"] };
const GRAMMARS: Record<string, Grammar> = {
  python: { inline: ["-c", "-m", "-"], valued: ["-W", "-X", "--check-hash-based-pycs"] },
  node: {
    inline: ["-e", "--eval", "-p", "--print", "--test", "-", "-i", "--interactive"],
    valued: [
      "-r",
      "--require",
      "--import",
      "--loader",
      "--experimental-loader",
      "-C",
      "--conditions",
      "--input-type",
      "--title",
      "--env-file",
    ],
  },
  bash: SHELL,
  sh: SHELL,
  dash: SHELL,
  zsh: SHELL,
  ksh: SHELL,
  Rscript: { inline: ["-e"], valued: [] },
  julia: {
    inline: ["-e", "-E", "--eval", "--print"],
    valued: ["-p", "-t", "-J", "-C", "-L", "--project", "--sysimage", "--threads", "--procs"],
  },
  ruby: { inline: ["-e", "-"], valued: ["-I", "-r", "-C", "-E", "-F"] },
  perl: { inline: ["-e", "-E", "-"], valued: ["-I", "-M", "-m", "-x"] },
  php: { inline: ["-r", "-a"], valued: ["-c", "-d", "-z"], scriptOption: "-f" },
  lua: { inline: ["-e", "-", "-i"], valued: ["-l"] },
  java: {
    inline: [],
    valued: ["-cp", "-classpath", "--class-path", "-p", "--module-path", "-m", "--module"],
    scriptOption: "-jar",
  },
  bun: {
    inline: ["-e", "--eval", "-p", "--print"],
    valued: ["--cwd", "--config", "-c", "--env-file", "--preload", "-r"],
    filesOnly: true,
  },
  deno: {
    inline: ["eval", "repl", "-e"],
    valued: ["--config", "-c", "--import-map", "--lock", "--cert", "--location", "--seed", "--env-file"],
    filesOnly: true,
  },
};

const SCRIPT_LIKE = /\.(py|pyw|js|mjs|cjs|ts|mts|cts|tsx|jsx|sh|bash|zsh|r|jl|rb|pl|php|lua|jar)$/i;

/** The interpreter's family name (`python3.11` → python, `nodejs` → node), or null. */
export function interpreterOf(argv0: string): string | null {
  const base = path.basename(argv0);
  if (/^python(\d+(\.\d+)*)?$/.test(base) || base === "pypy3" || base === "pypy") return "python";
  if (base === "nodejs") return "node";
  return base in GRAMMARS ? base : null;
}

/** The script file `command` hands to a known interpreter, or null (none, or not an interpreter). */
export function scriptOf(command: readonly string[]): { interpreter: string; script: string } | null {
  let argv = [...command];
  // `env [VAR=value…] python x.py`
  if (argv[0] !== undefined && path.basename(argv[0]) === "env") {
    argv = argv.slice(1);
    while (argv[0] !== undefined && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]) || argv[0].startsWith("-")))
      argv.shift();
  }
  const name = argv[0] === undefined ? null : interpreterOf(argv[0]);
  if (name === null) return null;
  const g = GRAMMARS[name]!;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      const next = argv[i + 1];
      return next === undefined ? null : { interpreter: name, script: next };
    }
    if (g.scriptOption !== undefined && a === g.scriptOption) {
      const next = argv[i + 1];
      return next === undefined ? null : { interpreter: name, script: next };
    }
    if (g.inline.includes(a)) return null;
    // Python and shells accept inline code glued to the flag (-c'print(1)', -mpkg).
    if (name === "python" && /^-[^-]*[cm]/.test(a)) return null;
    if (g.valued.includes(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-") || a.startsWith("+")) continue;
    if (g.filesOnly && !(a.includes("/") || SCRIPT_LIKE.test(a))) continue;
    // java's first word is a class name, not a file; only -jar names one.
    if (name === "java") return null;
    return { interpreter: name, script: a };
  }
  return null;
}
