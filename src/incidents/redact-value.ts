/**
 * @module
 * Applying a text redactor to JSON values. Redacting the serialised JSON text could cut through a
 * closing quote (`password=\S+` eats `abc",`) and leave a file that no longer parses, so strings are
 * redacted one by one (keys too). A string value is also offered to the redactor together with its key
 * (`api_key: value`), so that key-shaped rules catch secrets stored under a telling name.
 */

export type Redact = (text: string) => string;

function redactString(redact: Redact, value: string, key: string | undefined): string {
  if (key !== undefined) {
    const prefix = `${key}: `;
    const withKey = redact(`${prefix}${value}`);
    if (withKey !== `${prefix}${value}`) {
      return withKey.startsWith(prefix) ? withKey.slice(prefix.length) : redact(value);
    }
  }
  return redact(value);
}

/** A deep copy of `value` with every string, keys included, passed through `redact`. */
export function redactJson<T>(value: T, redact: Redact, key?: string): T {
  if (typeof value === "string") return redactString(redact, value, key) as T;
  if (Array.isArray(value)) return value.map((v) => redactJson(v, redact, key)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      out[redact(k)] = redactJson(v, redact, k);
    return out as T;
  }
  return value;
}
