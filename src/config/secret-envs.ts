/**
 * @module
 * The environments whose secret-named values the redactor hides wherever they appear
 * (src/redact/known-values.ts): the config's `process.env`, each stage's `env`, and the variables
 * rules set (`restart_with_env` `set:`; a rule can hand the job a new `DB_PASSWORD`, which the job
 * may then print bare), and the project's `.env` (read for this only: autosentry does not load
 * it into anyone's environment, but jobs commonly do). `half`/`double` are computed numbers, never
 * secrets, and are skipped by the length and shape filters there.
 */
import * as fs from "node:fs";
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

/** `KEY=value` pairs of a dotenv file (`export`, quotes and comments understood); {} when absent. */
export function readDotenv(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(raw);
    if (!m) continue;
    let v = m[2]!.trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, "");
    out[m[1]!] = v;
  }
  return out;
}
