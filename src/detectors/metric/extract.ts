/**
 * @module
 * Reading one named number out of a log line. Three shapes are understood without configuration,
 * by one regex built per key: `key=value` / `key: value` (logfmt, most print statements), and JSON
 * objects (`{"loss": 0.12, "step": 40}`), including Python's `json.dumps` spelling of non-finite
 * floats (`NaN`, `Infinity`, which `JSON.parse` rejects: that is why the line is scanned rather
 * than parsed). A user regex replaces the key scan: its group `value` (named) or group 1 or the
 * whole match is the number.
 *
 * Values keep NaN and ±Infinity: they are what the metric detector is for. `tensor(0.5)` and a
 * trailing unit (`12.5it/s`) read as the number.
 */

/** A number as logs spell it: decimals, exponents, nan, inf, infinity (any case, signed). */
const NUMBER = String.raw`[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)`;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Parse a number as logs spell it; null when `raw` is not one. */
export function parseMetricNumber(raw: string): number | null {
  let t = raw.trim();
  const tensor = /^tensor\((.*?)(?:,.*)?\)$/.exec(t);
  if (tensor) t = tensor[1]!.trim();
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) t = t.slice(1, -1);
  const m = new RegExp(`^${NUMBER}`).exec(t);
  if (!m) return null;
  const s = m[0].toLowerCase();
  const sign = s.startsWith("-") ? -1 : 1;
  const body = s.replace(/^[-+]/, "");
  if (body === "nan") return Number.NaN;
  if (body === "inf" || body === "infinity") return sign * Number.POSITIVE_INFINITY;
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}

/** Reads one key from lines. Cheap on lines that do not mention the key (an `includes` test). */
export class KeyReader {
  private readonly re: RegExp;

  constructor(readonly key: string) {
    // `key=v`, `key: v`, `"key": v`, `'key': v`, `key = tensor(v)`; the key must not be the tail of a
    // longer word (`val_loss` is not `loss`) nor a path segment's tail (`eval/loss` is not `loss`).
    this.re = new RegExp(
      String.raw`(?:^|[^\w./-])["']?${escapeRegex(key)}["']?\s*[=:]\s*(?:tensor\()?["']?(${NUMBER})`,
    );
  }

  /** The value in `text`, or null when the key is not there. */
  read(text: string): number | null {
    if (!text.includes(this.key)) return null;
    const m = this.re.exec(text);
    return m ? parseMetricNumber(m[1]!) : null;
  }
}

/** Reads a value with a user regex: named group `value`, else group 1, else the whole match. */
export class RegexReader {
  constructor(readonly regex: RegExp) {}

  read(text: string): number | null {
    this.regex.lastIndex = 0;
    const m = this.regex.exec(text);
    if (!m) return null;
    const raw = m.groups?.["value"] ?? m[1] ?? m[0];
    return parseMetricNumber(raw);
  }
}

/** Either reader. */
export type ValueReader = KeyReader | RegexReader;
