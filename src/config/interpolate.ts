/**
 * @module
 * Environment interpolation in config values: `$VAR`, `${VAR}`, `${VAR:-default}` (default when
 * unset or empty), `${VAR-default}` (default when unset) and `$$` for a literal `$`.
 *
 * It applies only to the values listed in {@link INTERPOLATED_PATHS} (commands, env values, paths,
 * URLs), never to regexes or anything else: the Python tool expanded every string, which mangled
 * regexes such as `loss=(\d+)$` (inventory §6 item 39). An unset variable without a default is an
 * error, not a silent literal.
 */

/** A path pattern into the config; `*` matches any list index or map key. */
export type PathPattern = readonly string[];

/** Config values that hold a filesystem path (resolved against the project root after loading). */
export const PATH_FIELDS: readonly PathPattern[] = [
  ["process", "cwd"],
  ["process", "stages", "*", "cwd"],
  ["process", "extra", "log_pattern"],
  ["process", "extra", "pid_file"],
  ["process", "extra", "log_path"],
  ["monitor", "log_dir"],
  ["state_path"],
  ["incidents_dir"],
  ["config_snapshots", "*"],
  ["notifiers", "*", "outbox_path"],
  ["healing", "claude", "prompt_template"],
  ["healing", "claude", "request_path"],
  ["healing", "claude", "response_path"],
  ["vault", "path"],
  ["dispatch", "request_marker"],
  ["dispatch", "cursor_path"],
  ["dispatch", "action_queue_path"],
  ["dispatch", "action_cursor_path"],
  // issue 11
  ["monitor", "metrics_dir"],
  ["detectors", "*", "heartbeat", "path"],
  ["detectors", "*", "heartbeat", "sentinel_dir"],
  ["detectors", "*", "completion", "marker_file"],
  ["detectors", "*", "resources", "disk", "paths", "*"],
];

/** Every value in which `$VAR` is expanded. An argv may be a list or a single string. */
export const INTERPOLATED_PATHS: readonly PathPattern[] = [
  ["process", "command"],
  ["process", "command", "*"],
  ["process", "env", "*"],
  ["process", "stages", "*", "command"],
  ["process", "stages", "*", "command", "*"],
  ["process", "stages", "*", "env", "*"],
  ["rules", "*", "action", "command"],
  ["rules", "*", "action", "command", "*"],
  ["healing", "claude", "command"],
  ["healing", "claude", "command", "*"],
  ["notifiers", "*", "url"],
  ["healing", "claude", "api", "base_url"],
  ["healing", "github", "api_url"],
  ...PATH_FIELDS,
];

/** Thrown by {@link interpolate} with a message naming the problem. */
export class InterpolationError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Expand `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$` in `text`. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch !== "$") {
      out += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "{") {
      const end = text.indexOf("}", i + 2);
      if (end < 0) throw new InterpolationError(`unterminated "\${" in ${JSON.stringify(text)}`);
      const body = text.slice(i + 2, end);
      const m = /^([^:-]*)(:?-)?([\s\S]*)$/.exec(body)!;
      const name = m[1]!;
      if (!NAME.test(name) || (m[2] === undefined && m[3] !== "")) {
        throw new InterpolationError(`bad variable reference "\${${body}}" (write $$ for a literal $)`);
      }
      const value = env[name];
      if (m[2] === ":-") out += value === undefined || value === "" ? m[3]! : value;
      else if (m[2] === "-") out += value === undefined ? m[3]! : value;
      else out += lookup(env, name);
      i = end + 1;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (m) {
        out += lookup(env, m[0]);
        i += 1 + m[0].length;
      } else {
        // `$` before anything that cannot start a name (`$1`, `$ `, end of text) is kept as is.
        out += "$";
        i++;
      }
    }
  }
  return out;
}

function lookup(env: Record<string, string | undefined>, name: string): string {
  const v = env[name];
  if (v === undefined) {
    throw new InterpolationError(
      `environment variable ${name} is not set (write \${${name}:-default} to give a default, or $$ for a literal $)`,
    );
  }
  return v;
}

/**
 * Call `fn` for every value of `root` that matches one of `patterns` and replace it with the
 * result. Only existing values are visited; `fn` gets the concrete path.
 */
export function mapPaths(
  root: unknown,
  patterns: readonly PathPattern[],
  fn: (value: unknown, path: (string | number)[]) => unknown,
): void {
  const seen = new Set<string>();
  for (const pattern of patterns) walk(root, pattern, [], fn, seen);
}

function walk(
  node: unknown,
  rest: readonly string[],
  path: (string | number)[],
  fn: (value: unknown, path: (string | number)[]) => unknown,
  seen: Set<string>,
): void {
  if (rest.length === 0) return;
  const [head, ...tail] = rest as [string, ...string[]];
  const visit = (container: Record<string | number, unknown>, key: string | number) => {
    const p = [...path, key];
    if (tail.length > 0) {
      walk(container[key], tail, p, fn, seen);
      return;
    }
    const id = JSON.stringify(p);
    if (seen.has(id)) return;
    seen.add(id);
    container[key] = fn(container[key], p);
  };
  if (Array.isArray(node)) {
    if (head !== "*") return;
    for (let i = 0; i < node.length; i++) visit(node as unknown as Record<number, unknown>, i);
  } else if (node !== null && typeof node === "object") {
    const obj = node as Record<string, unknown>;
    if (head === "*") for (const k of Object.keys(obj)) visit(obj, k);
    else if (Object.hasOwn(obj, head)) visit(obj, head);
  }
}
