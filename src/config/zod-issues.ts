/**
 * @module
 * zod issues → config issues with positions and messages written for the person editing the
 * file: `expected one of restart, pause (got "restrat")`, `unknown key (did you mean "command"?)`.
 */
import type { z } from "zod";
import { type ConfigIssue, describeValue, didYouMean, formatPath } from "./errors.ts";
import { argv, byteSize } from "./schema.ts";
import { locate, type YamlSource } from "./yaml-source.ts";

/** The parts of zod's internal definition objects that the walkers below read. */
interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  options?: Schema[];
  values?: unknown[];
}
interface Schema {
  _zod: { def: Def };
}

const asSchema = (s: unknown): Schema => s as Schema;

/** Strip wrappers (default, optional, preprocess, …) down to the schema that has the shape. */
export function unwrapSchema(schema: unknown): Schema {
  let s = asSchema(schema);
  for (let i = 0; i < 20; i++) {
    const def = s._zod.def;
    if (
      def.innerType &&
      ["default", "prefault", "optional", "nullable", "readonly", "catch", "nonoptional"].includes(def.type)
    ) {
      s = def.innerType;
    } else if (def.type === "pipe" && def.in && def.out) {
      s = def.in._zod.def.type === "transform" ? def.out : def.in;
    } else {
      break;
    }
  }
  return s;
}

/** The schema that describes the value at `path`, or undefined when the path leaves the schema. */
export function schemaAt(root: unknown, path: readonly PropertyKey[]): Schema | undefined {
  let s: Schema | undefined = unwrapSchema(root);
  for (const seg of path) {
    if (!s) return undefined;
    const def: Def = s._zod.def;
    if (def.type === "object" && def.shape) s = def.shape[String(seg)];
    else if (def.type === "array" && def.element) s = def.element;
    else if (def.type === "record" && def.valueType) s = def.valueType;
    else return undefined;
    s = s ? unwrapSchema(s) : undefined;
  }
  return s;
}

/** The keys an object schema at `path` allows (empty when it is not an object). */
export function allowedKeys(root: unknown, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(root, path);
  const def = s?._zod.def;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** The value at `path` in plain data. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** Convert zod's issues for `input` (parsed from `src`) into positioned config issues. */
export function zodIssuesToConfigIssues(
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  src: YamlSource,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const push = (path: PropertyKey[], message: string, key = false) => {
    out.push({ file: src.file, ...locate(src, path, { key }), path: formatPath(path), message });
  };
  for (const issue of issues) {
    const path = [...issue.path];
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeys(schema, path);
      for (const k of issue.keys) {
        const guess = didYouMean(k, allowed);
        push([...path, k], guess ? `unknown key (did you mean "${guess}"?)` : "unknown key", true);
      }
      continue;
    }
    const got = valueAt(input, path);
    push(path, describeIssue(schema, issue, path, got));
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  array: "a list",
  object: "a mapping",
  record: "a mapping",
  map: "a mapping",
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  null: "null",
};

function describeIssue(
  schema: z.ZodType,
  issue: z.core.$ZodIssue,
  path: PropertyKey[],
  got: unknown,
): string {
  const gotText = ` (got ${describeValue(got)})`;
  if (got === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value")) {
    const expected = issue.code === "invalid_value" ? `: one of ${issue.values.map(String).join(", ")}` : "";
    return `required key is missing${expected}`;
  }
  switch (issue.code) {
    case "invalid_type": {
      const target = schemaAt(schema, path);
      if (target === unwrapSchema(argv)) return `expected a command: a list of words or one string${gotText}`;
      if (target === unwrapSchema(byteSize)) {
        return `expected a size in bytes: a number or a string such as 50MB${gotText}`;
      }
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}${gotText}`;
    }
    case "invalid_value": {
      const values = issue.values.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
      if (values.length === 1) return `expected ${JSON.stringify(issue.values[0])}${gotText}`;
      return `expected one of ${values.join(", ")}${gotText}`;
    }
    case "invalid_union": {
      const alts: string[] = [];
      for (const branch of issue.errors) {
        const first = branch[0];
        if (!first) continue;
        if (first.code === "invalid_type" && first.expected === "boolean") alts.push("true", "false");
        else if (first.code === "invalid_type") alts.push(TYPE_NAMES[first.expected] ?? first.expected);
        else if (first.code === "invalid_value") alts.push(...first.values.map((v) => JSON.stringify(v)));
      }
      return alts.length > 0 ? `expected ${joinOr(alts)}${gotText}` : `${issue.message}${gotText}`;
    }
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? (issue as { minimum: number | bigint }).minimum : issue.maximum;
      const op = small ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      if (issue.origin === "array" || issue.origin === "set") {
        return small ? `needs at least ${bound} item${bound === 1 ? "" : "s"}` : `at most ${bound} items`;
      }
      if (issue.origin === "string") {
        return small && Number(bound) === 1 ? "must not be empty" : `length must be ${op} ${bound}`;
      }
      return `must be ${op} ${bound}${gotText}`;
    }
    case "invalid_format":
      return `${issue.message}${gotText}`;
    default:
      return issue.message;
  }
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
