/**
 * @module
 * Secret values autosentry knows, hidden wherever they appear (issue 16, finding 8): a job that
 * prints `$HF_TOKEN` bare, with no key in front, used to leak it, since patterns only see shapes.
 * The values come from variables whose *names* look secret (`isSecretKey`: `*_TOKEN`, `*PASSWORD*`,
 * `*_API_KEY`, …) in the config's `process.env` and in autosentry's own environment.
 *
 * Left out, deliberately: values shorter than {@link MIN_KNOWN_LENGTH} (hiding every `1234` or `true`
 * in a log would destroy evidence and protect nothing), paths (`GOOGLE_APPLICATION_CREDENTIALS` is
 * a file name; the file is the secret), references such as `${VAR}`, and values with a line break.
 */
import { isSecretKey } from "./secret-key.ts";
import { isHarmless } from "./values.ts";

export const MIN_KNOWN_LENGTH = 6;

/** The secret values of `envs` (later ones add to earlier ones), longest first. */
export function knownSecretValues(...envs: Array<Record<string, string | undefined> | undefined>): string[] {
  const out = new Set<string>();
  for (const env of envs) {
    if (!env) continue;
    for (const [name, raw] of Object.entries(env)) {
      if (typeof raw !== "string" || !isSecretKey(name)) continue;
      const v = raw.trim();
      if (v.length < MIN_KNOWN_LENGTH || isHarmless(v) || /[\r\n]/.test(v)) continue;
      if (/^(?:\/|~\/|\.\.?\/)/.test(v)) continue;
      out.add(v);
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Replace every occurrence of each known value with `marker`. */
export function redactKnownValues(text: string, values: readonly string[], marker: string): string {
  let out = text;
  for (const v of values) if (out.includes(v)) out = out.split(v).join(marker);
  return out;
}

/** A config `env:` map as strings (numbers and booleans are allowed there). */
export function stringEnv(env: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}
