/**
 * @module
 * The configuration reference in README.md, rendered from the schema (through its JSON Schema) so
 * that the documentation cannot drift from the code: one Markdown table per top-level section with
 * every key's path, type, default and description. `scripts/gen-config-reference.ts` writes it
 * between the README's markers and `reference.test.ts` fails when the README is stale.
 */
import { stringify } from "yaml";
import { BYTE_SIZE_PATTERN, configJsonSchema } from "./json-schema.ts";

export const REFERENCE_START = "<!-- config-reference:start -->";
export const REFERENCE_END = "<!-- config-reference:end -->";

type Json = Record<string, unknown>;

interface Row {
  key: string;
  type: string;
  def: string;
  description: string;
}

const INTRO = `<!-- Generated from src/config/schema.ts by scripts/gen-config-reference.ts; do not edit by hand. -->

Every key of \`.autosentry/autosentry.yaml\`; \`autosentry init\` writes a commented starting point and
\`autosentry config schema\` prints the same information as a JSON Schema. Unknown keys are errors.

- Relative paths are relative to the project root, the directory that holds \`.autosentry/\` (for a
  config elsewhere, the config file's directory).
- \`$VAR\`, \`\${VAR}\` and \`\${VAR:-default}\` are expanded from the environment in commands, \`env\`
  values, paths and URLs, never in regexes; \`$$\` is a literal \`$\`. An unset variable without a
  default is an error.
- An *argv* is a list of words, or one string split into words like a POSIX shell would (no shell
  runs). Regexes use JavaScript syntax; Python's \`(?P<name>…)\` and a leading \`(?i)\` are accepted.`;

/** The Markdown reference (what goes between the README markers). */
export function renderConfigReference(schema: Json = configJsonSchema()): string {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const parts = [INTRO];
  const seen = new Map<string, string>();
  const topLevel: Row[] = [];
  for (const [name, prop] of Object.entries(props)) {
    const isSection = isMapping(prop) || isMapping(arrayItems(prop));
    if (!isSection) {
      topLevel.push(row(name, prop, false));
      continue;
    }
    const rows: Row[] = [];
    if (isMapping(prop)) walkMapping(prop, name, rows, seen);
    else walk(prop, name, false, rows, seen);
    parts.push(`### ${name}\n\n${table(rows)}`);
  }
  if (topLevel.length > 0) parts.push(`### top level\n\n${table(topLevel)}`);
  return `${parts.join("\n\n")}\n`;
}

/** Replace the text between the README markers with `reference`. */
export function replaceReferenceSection(readme: string, reference: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md: markers ${REFERENCE_START} … ${REFERENCE_END} not found`);
  }
  return `${readme.slice(0, start + REFERENCE_START.length)}\n${reference}${readme.slice(end)}`;
}

/** The text currently between the README markers (null when they are missing). */
export function extractReferenceSection(readme: string): string | null {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) return null;
  return readme.slice(start + REFERENCE_START.length + 1, end);
}

function isMapping(s: unknown): s is Json {
  return typeof s === "object" && s !== null && (s as Json).properties !== undefined;
}

function arrayItems(s: Json): Json | undefined {
  return types(s).includes("array") ? (s.items as Json | undefined) : undefined;
}

function recordValue(s: Json): Json | undefined {
  const ap = s.additionalProperties;
  return types(s).includes("object") && typeof ap === "object" && ap !== null ? (ap as Json) : undefined;
}

function types(s: Json): string[] {
  const t = s.type;
  return Array.isArray(t) ? (t as string[]) : typeof t === "string" ? [t] : [];
}

function walkMapping(s: Json, path: string, rows: Row[], seen: Map<string, string>): void {
  const required = new Set((s.required as string[] | undefined) ?? []);
  for (const [k, child] of Object.entries((s.properties ?? {}) as Record<string, Json>)) {
    walk(child, `${path}.${k}`, required.has(k), rows, seen);
  }
}

function walk(s: Json, path: string, required: boolean, rows: Row[], seen: Map<string, string>): void {
  if (isMapping(s)) {
    const shape = JSON.stringify(s.properties);
    const same = seen.get(shape);
    if (same !== undefined) {
      const r = row(path, s, required);
      r.description = `${r.description} Same keys as \`${same}\`.`.trim();
      rows.push(r);
      return;
    }
    seen.set(shape, path);
    if (typeof s.description === "string") rows.push(row(path, s, required));
    walkMapping(s, path, rows, seen);
    return;
  }
  rows.push(row(path, s, required));
  const items = arrayItems(s);
  if (isMapping(items)) walkMapping(items, `${path}[]`, rows, seen);
  const value = recordValue(s);
  if (isMapping(value)) walkMapping(value, `${path}.<name>`, rows, seen);
}

function row(key: string, s: Json, required: boolean): Row {
  let def = "";
  if (required) def = "required";
  else if ("default" in s && !(isMapping(s) && isEmptyObject(s.default))) def = code(flow(s.default));
  return {
    key: code(key),
    type: typeText(s),
    def,
    description: typeof s.description === "string" ? s.description : "",
  };
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

function typeText(s: Json): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => code(String(v))).join(" \\| ");
  if ("const" in s) return code(String(s.const));
  if (Array.isArray(s.anyOf)) {
    const alts = s.anyOf as Json[];
    const isArgv =
      alts.some((a) => types(a).includes("string")) && alts.some((a) => types(a).includes("array"));
    if (isArgv) return "argv";
    if (alts.some((a) => a.pattern === BYTE_SIZE_PATTERN)) return "bytes (number or `50MB`)";
    return [...new Set(alts.map(typeText))].join(" or ");
  }
  let t = types(s).filter((x) => x !== "null");
  if (t.includes("string")) t = t.filter((x) => x !== "number" && x !== "boolean");
  const parts = t.map((x) => {
    if (x === "array") {
      const items = (s.items ?? {}) as Json;
      return isMapping(items) ? "list of mappings" : `list of ${wrap(typeText(items))}`;
    }
    if (x === "object") {
      const v = recordValue(s);
      if (v && !isMapping(s)) return isMapping(v) ? "map of mappings" : `map of ${wrap(typeText(v))}`;
      return "mapping";
    }
    return x;
  });
  return parts.join(" or ") || "any";
}

function wrap(t: string): string {
  return t.includes(" ") ? `(${t})` : t;
}

function flow(v: unknown): string {
  if (typeof v === "string") return v === "" ? '""' : v;
  return stringify(v, { collectionStyle: "flow", flowCollectionPadding: false, lineWidth: 0 }).trim();
}

function code(text: string): string {
  return `\`${text.replace(/\|/g, "\\|")}\``;
}

function table(rows: Row[]): string {
  const cell = (t: string) => t.replace(/\n+/g, " ").replace(/(?<!\\)\|/g, "\\|");
  const lines = ["| key | type | default | description |", "|---|---|---|---|"];
  for (const r of rows) lines.push(`| ${r.key} | ${r.type} | ${r.def} | ${cell(r.description)} |`);
  return lines.join("\n");
}
