/**
 * @module
 * Resolving a `restart_with_env` overlay. Values are literals, or `half` / `double` of the variable's
 * current value, or the current value scaled by a factor (`*0.5`, `*2`, `* 1e-1`; issue 11), looked up in the overlay already in effect, then `process.env` from the config,
 * then the monitor's own environment (the Python tool skipped `process.env`, so its shipped OOM rule
 * silently became a plain restart when BATCH_SIZE was set there).
 */

export interface OverlaySources {
  /** The overlay from earlier restart_with_env actions. */
  overlay: Record<string, string>;
  /** `process.env` from the config. */
  processEnv: Record<string, string>;
  /** The monitor's environment. */
  monitorEnv: Record<string, string | undefined>;
}

export interface ResolvedOverlay {
  /** The values to put in the overlay. */
  values: Record<string, string>;
  /** One line per key, for the report: `BATCH_SIZE=32 (half of 64 from process.env)`. */
  notes: string[];
  /** Keys that could not be resolved (no numeric base for half/double). */
  errors: string[];
}

function lookup(key: string, src: OverlaySources): { value: string; from: string } | null {
  if (src.overlay[key] !== undefined) return { value: src.overlay[key]!, from: "the previous overlay" };
  if (src.processEnv[key] !== undefined) return { value: src.processEnv[key]!, from: "process.env" };
  const m = src.monitorEnv[key];
  if (m !== undefined) return { value: m, from: "the monitor's environment" };
  return null;
}

function scale(base: string, op: "half" | "double"): string | null {
  const t = base.trim();
  if (/^[+-]?\d+$/.test(t)) {
    const n = Number.parseInt(t, 10);
    return String(op === "half" ? Math.max(1, Math.floor(n / 2)) : n * 2);
  }
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$/.test(t)) {
    const n = Number(t);
    return String(op === "half" ? n / 2 : n * 2);
  }
  return null;
}

/** `*<factor>` (`*0.5`, `* 2`, `*1e-1`): the factor, else null. */
export function parseFactor(raw: string): number | null {
  const m = /^\*\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/.exec(raw.trim());
  if (!m) return null;
  const f = Number(m[1]);
  return Number.isFinite(f) ? f : null;
}

/**
 * `base` × `factor`. An integer base stays an integer when the product is one (`BATCH_SIZE=64`,
 * `*0.5` → `32`), and is rounded down but kept at least 1 when it is not (a batch of 0 helps
 * nobody); a decimal or exponent base gives a float, printed without binary noise (`3e-4 * 0.5`
 * → `0.00015`).
 */
function scaleBy(base: string, factor: number): string | null {
  const t = base.trim();
  if (/^[+-]?\d+$/.test(t)) {
    const p = Number.parseInt(t, 10) * factor;
    if (Number.isInteger(p)) return String(p);
    return String(Math.max(1, Math.floor(p)));
  }
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$/.test(t)) {
    return String(Number((Number(t) * factor).toPrecision(12)));
  }
  return null;
}

/** Resolve every entry of an action's `set` against the current sources. */
export function resolveOverlay(set: Record<string, string>, src: OverlaySources): ResolvedOverlay {
  const values: Record<string, string> = {};
  const notes: string[] = [];
  const errors: string[] = [];
  for (const [key, raw] of Object.entries(set)) {
    const op = raw.trim().toLowerCase();
    const factor = parseFactor(raw);
    if (factor !== null) {
      const base = lookup(key, src);
      const scaled = base ? scaleBy(base.value, factor) : null;
      if (!base || scaled === null) {
        errors.push(
          base
            ? `${key}: cannot scale non-numeric value ${JSON.stringify(base.value)} from ${base.from} by ${factor}`
            : `${key}: cannot scale by ${factor}: the variable is not set in the overlay, process.env or the monitor's environment`,
        );
        continue;
      }
      values[key] = scaled;
      notes.push(`${key}=${scaled} (${base.value} × ${factor} from ${base.from})`);
      continue;
    }
    if (op !== "half" && op !== "double") {
      values[key] = raw;
      notes.push(`${key}=${raw}`);
      continue;
    }
    const base = lookup(key, src);
    const scaled = base ? scale(base.value, op) : null;
    if (!base || scaled === null) {
      errors.push(
        base
          ? `${key}: cannot take ${op} of non-numeric value ${JSON.stringify(base.value)} from ${base.from}`
          : `${key}: cannot take ${op}: the variable is not set in the overlay, process.env or the monitor's environment`,
      );
      continue;
    }
    values[key] = scaled;
    notes.push(`${key}=${scaled} (${op} of ${base.value} from ${base.from})`);
  }
  return { values, notes, errors };
}

/** The child's environment: monitor env, then process.env, then the overlay. */
export function childEnvironment(
  monitorEnv: Record<string, string | undefined>,
  processEnv: Record<string, string>,
  overlay: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(monitorEnv)) if (v !== undefined) env[k] = v;
  Object.assign(env, processEnv, overlay);
  return env;
}
