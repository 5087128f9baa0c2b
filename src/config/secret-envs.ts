/**
 * @module
 * The environments whose secret-named values the redactor hides wherever they appear
 * (src/redact/known-values.ts): the config's `process.env`, each stage's `env`, and the variables
 * rules set (`restart_with_env` `set:`; a rule can hand the job a new `DB_PASSWORD`, which the job
 * may then print bare). `half`/`double` are computed numbers, never secrets, and are skipped by
 * the length and shape filters there.
 */
import { stringEnv } from "../redact/known-values.ts";
import type { ConfigData } from "./schema.ts";

/** Secret-bearing environments of a loaded config, plus `extra` (e.g. state.json's env overlay). */
export function secretEnvsOf(
  c: ConfigData,
  ...extra: Array<Record<string, unknown> | null | undefined>
): Array<Record<string, string>> {
  const out = [stringEnv(c.process.env)];
  for (const s of c.process.stages) out.push(stringEnv(s.env));
  for (const r of c.rules) out.push(stringEnv(r.action.set));
  for (const e of extra) if (e && typeof e === "object") out.push(stringEnv(e));
  return out;
}
