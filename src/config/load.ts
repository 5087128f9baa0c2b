/**
 * @module
 * Loading `.autosentry/autosentry.yaml`: find it, parse it (with positions), expand `$VAR` where
 * that is allowed, validate it against the schema, compile its regexes, check detector names, and
 * resolve its paths against the project root. Every problem is collected and reported at once as
 * a {@link ConfigError}; nothing here prints or exits.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IMPLIED_DETECTOR_NAMES, resolveDetectorName } from "./detector-names.ts";
import { ConfigError, type ConfigIssue, describeValue, didYouMean, formatPath } from "./errors.ts";
import {
  INTERPOLATED_PATHS,
  InterpolationError,
  interpolate,
  mapPaths,
  type PathPattern,
} from "./interpolate.ts";
import { CONFIG_DIR, CONFIG_FILE, findConfigPath, projectRootFor, resolveConfigPaths } from "./paths.ts";
import { compileRegex } from "./regex.ts";
import { catastrophicReason } from "./regex-safety.ts";
import { Config, type ConfigData } from "./schema.ts";
import { locate, parseYamlSource } from "./yaml-source.ts";
import { zodIssuesToConfigIssues } from "./zod-issues.ts";

export { IMPLIED_DETECTOR_NAMES, resolveDetectorName } from "./detector-names.ts";
export { ConfigError, type ConfigIssue } from "./errors.ts";
export { findConfigPath, projectRootFor } from "./paths.ts";

/** A loaded config. */
export interface LoadedConfig {
  /** Validated, defaults filled, every path absolute. */
  data: ConfigData;
  /** Absolute path of the file, or null when there was none (`allowMissing`). */
  path: string | null;
  /** The project root: relative paths in the file are relative to it. */
  root: string;
  /** The file's content as written: plain data before interpolation and defaults (`{}` when empty). */
  raw: unknown;
}

export interface LoadConfigOptions {
  /** A config file named by the user (`-c`); relative to `cwd`. */
  path?: string | undefined;
  /** Where to start looking; default `process.cwd()`. */
  cwd?: string | undefined;
  /** Variables for `$VAR` interpolation; default `process.env`. */
  env?: Record<string, string | undefined> | undefined;
  /** Without a config file, return the defaults (root = cwd) instead of failing. */
  allowMissing?: boolean | undefined;
}

/** Regex-valued fields, compiled at load so that a bad pattern is a config error. */
const REGEX_PATHS: readonly PathPattern[] = [
  ["detectors", "*", "regex"],
  ["detectors", "*", "metric_regex"],
  ["detectors", "*", "metric", "regex"],
  ["detectors", "*", "adaptive", "phases", "*"],
  ["detectors", "*", "completion", "marker_regex"],
  ["process", "resume", "step_regex"],
  ["rules", "*", "match", "message_regex"],
  ["redaction", "extra_patterns", "*"],
];

/** Find and load the config. Throws {@link ConfigError} for every problem a user can fix. */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const found = findConfigPath(cwd, opts.path);
  if (found === null) {
    if (opts.allowMissing) {
      const data = resolveConfigPaths(Config.parse({}), cwd);
      return { data, path: null, root: cwd, raw: {} };
    }
    throw new ConfigError([
      issue(
        "",
        `Cannot read config: no ${CONFIG_DIR}/${CONFIG_FILE} in ${cwd} or its parents (create one with \`autosentry init\`)`,
      ),
    ]);
  }
  const file = opts.path ?? path.relative(cwd, found);
  let text: string;
  try {
    text = fs.readFileSync(found, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (err as Error).message;
    throw new ConfigError([issue("", `Cannot read config: ${file}: ${why}`)]);
  }
  const root = projectRootFor(found);
  const { data, raw } = parseConfigText(text, { file, env, root });
  return { data, path: found, root, raw };
}

/**
 * Validate config text as {@link loadConfig} does (`file` is only used in messages). Paths are
 * resolved against `root`.
 */
export function parseConfigText(
  text: string,
  opts: { file: string; root: string; env?: Record<string, string | undefined> | undefined },
): { data: ConfigData; raw: unknown } {
  const env = opts.env ?? process.env;
  const src = parseYamlSource(text, opts.file);
  if (src.issues.length > 0) throw new ConfigError(src.issues);
  const raw = src.value;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError([
      {
        file: opts.file,
        line: 1,
        col: 1,
        path: "",
        message: `expected a mapping of keys (got ${describeValue(raw)})`,
      },
    ]);
  }
  const work = structuredClone(raw) as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  const at = (p: readonly PropertyKey[], message: string) => {
    issues.push({ file: src.file, ...locate(src, p), path: formatPath(p), message });
  };

  mapPaths(work, INTERPOLATED_PATHS, (v, p) => {
    if (typeof v !== "string") return v;
    try {
      return interpolate(v, env);
    } catch (err) {
      if (!(err instanceof InterpolationError)) throw err;
      at(p, err.message);
      return v;
    }
  });

  mapPaths(work, REGEX_PATHS, (v, p) => {
    if (typeof v === "string" && v !== "") {
      try {
        const re = compileRegex(v);
        // Patterns that backtrack catastrophically are refused here (issue 16, finding 5).
        const why = catastrophicReason(re.source, re.flags);
        if (why !== null) at(p, `regex may backtrack catastrophically: ${why}`);
      } catch (err) {
        at(p, (err as Error).message);
      }
    }
    return v;
  });

  checkDetectorNames(work, at);

  const result = Config.safeParse(work);
  if (!result.success) issues.push(...zodIssuesToConfigIssues(Config, result.error.issues, work, src));
  if (issues.length > 0 || !result.success) throw new ConfigError(sortIssues(issues));
  return { data: resolveConfigPaths(result.data, opts.root), raw };
}

/** Two detectors with one name, and rules naming a detector that does not exist. */
function checkDetectorNames(work: Record<string, unknown>, at: (p: PropertyKey[], m: string) => void): void {
  const detectors = work.detectors;
  if (detectors !== undefined && detectors !== null && !Array.isArray(detectors)) return;
  const names = new Map<string, number>();
  (detectors ?? []).forEach((d: unknown, i: number) => {
    if (!isRecord(d) || typeof d.kind !== "string") return;
    const explicit = typeof d.name === "string";
    const name = resolveDetectorName(
      { kind: d.kind, name: explicit ? (d.name as string) : undefined, metric: d.metric },
      i,
    );
    const first = names.get(name);
    if (first !== undefined) {
      const hint = explicit ? "" : "; give one of them a name";
      at(
        explicit ? ["detectors", i, "name"] : ["detectors", i],
        `duplicate detector name "${name}" (detectors[${first}] has it too${hint})`,
      );
    } else {
      names.set(name, i);
    }
  });
  // The monitor adds an exit_code detector when none is configured (src/detectors/build.ts).
  const hasExitCode = (detectors ?? []).some((d: unknown) => isRecord(d) && d.kind === "exit_code");
  const implied = hasExitCode ? [] : IMPLIED_DETECTOR_NAMES.filter((n) => !names.has(n));
  const known = [...names.keys(), ...implied];
  const rules = work.rules;
  if (!Array.isArray(rules)) return;
  rules.forEach((r: unknown, i: number) => {
    const match = isRecord(r) ? r.match : undefined;
    const det = isRecord(match) ? match.detector : undefined;
    if (typeof det !== "string" || known.includes(det)) return;
    const guess = didYouMean(det, known);
    const hint = guess ? `did you mean "${guess}"?` : `detectors: ${known.join(", ")}`;
    at(["rules", i, "match", "detector"], `no detector is named "${det}" (${hint})`);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function issue(file: string, message: string): ConfigIssue {
  return { file, line: 0, col: 0, path: "", message };
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues
    .map((x, i) => ({ x, i }))
    .sort((a, b) => a.x.line - b.x.line || a.x.col - b.x.col || a.i - b.i)
    .map(({ x }) => x)
    .filter((x) => {
      const k = `${x.line}:${x.col}:${x.path}:${x.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}
