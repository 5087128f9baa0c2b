/**
 * @module
 * The JSON Schema of the config file (draft 2020-12), for editors: `init` writes it next to the
 * config as `autosentry.schema.json`, which the template's `yaml-language-server` modeline names.
 *
 * It describes the *input* (what may be written), so fields that the schema pre-processes accept
 * what the loader accepts: an argv is a list or one string, a byte size a number or `50MB`, a
 * string may be written as a number or boolean, and a list or map may be left empty (null).
 */
import { z } from "zod";
import { argv, byteSize, Config } from "./schema.ts";

/** `$id` of the schema. A URN: the schema is shipped in the binary, not hosted anywhere. */
export const CONFIG_SCHEMA_ID = "urn:autosentry:config";

/** The string form of a byte size, as the schema's preprocess accepts it. */
export const BYTE_SIZE_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*([kKmMgGtT]?)[iI]?[bB]?\\s*$";

type Json = Record<string, unknown>;

interface DefLike {
  type: string;
  in?: SchemaLike;
  out?: SchemaLike;
  defaultValue?: unknown;
  shape?: Record<string, SchemaLike>;
}
interface SchemaLike {
  _zod: { def: DefLike };
}

/** Whether a key with this schema may be left out of the file. */
function optionalInput(s: SchemaLike): boolean {
  const def = s._zod.def;
  if (def.type === "optional" || def.type === "default" || def.type === "prefault") return true;
  if (def.type === "pipe" && def.in && def.out) {
    return def.in._zod.def.type === "transform" ? optionalInput(def.out) : optionalInput(def.in);
  }
  return false;
}

function replace(target: Json, next: Json): void {
  const keep: Json = {};
  for (const k of ["description", "default", "title"]) if (k in target) keep[k] = target[k];
  for (const k of Object.keys(target)) delete target[k];
  Object.assign(target, keep, next);
}

/** The config's JSON Schema. */
export function configJsonSchema(): Json {
  const schema = z.toJSONSchema(Config, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
    override(ctx) {
      const def = ctx.zodSchema._zod.def as unknown as DefLike;
      const json = ctx.jsonSchema as Json;
      if (def.type === "object" && def.shape) {
        // zod counts a preprocessed key as optional in input mode; only wrappers make a key optional.
        const required = Object.entries(def.shape)
          .filter(([, v]) => !optionalInput(v))
          .map(([k]) => k);
        if (required.length > 0) json.required = required;
        else delete json.required;
      }
      if (def.type === "default" && !("default" in json)) {
        // zod leaves out the default of a preprocessed value in input mode; editors want it.
        json.default = def.defaultValue;
      }
      if (def.type !== "pipe" || def.in?._zod.def.type !== "transform") return;
      if (ctx.zodSchema === (argv as unknown)) {
        replace(json, {
          anyOf: [
            { type: "string", description: "Split into words like a POSIX shell (no shell runs)." },
            { type: "array", items: { type: ["string", "number", "boolean"] } },
          ],
        });
      } else if (ctx.zodSchema === (byteSize as unknown)) {
        replace(json, {
          anyOf: [
            { type: "integer", exclusiveMinimum: 0 },
            { type: "string", pattern: BYTE_SIZE_PATTERN },
          ],
        });
      } else if (def.out?._zod.def.type === "string") {
        // scalarString: `64` and `true` are taken as their text.
        json.type = ["string", "number", "boolean"];
      } else if (typeof json.type === "string") {
        // The other preprocessed values read an empty YAML value (null) as "empty" or "default".
        json.type = [json.type, "null"];
      }
    },
  }) as Json;
  stripSafeIntBounds(schema);
  return {
    $schema: schema.$schema,
    $id: CONFIG_SCHEMA_ID,
    title: "autosentry configuration (.autosentry/autosentry.yaml)",
    description: "Configuration of autosentry, the self-healing supervisor for long-running work.",
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$schema")),
  };
}

/** zod writes ±MAX_SAFE_INTEGER bounds on every integer; they are noise in an editor. */
function stripSafeIntBounds(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) stripSafeIntBounds(n);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const obj = node as Json;
  if (obj.minimum === Number.MIN_SAFE_INTEGER) delete obj.minimum;
  if (obj.maximum === Number.MAX_SAFE_INTEGER) delete obj.maximum;
  for (const v of Object.values(obj)) stripSafeIntBounds(v);
}
