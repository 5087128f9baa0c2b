import { expect, test } from "bun:test";
import { BYTE_SIZE_PATTERN, CONFIG_SCHEMA_ID, configJsonSchema } from "./json-schema.ts";

// biome-ignore lint/suspicious/noExplicitAny: walking arbitrary JSON Schema in assertions
type J = Record<string, any>;
const schema = configJsonSchema() as J;
const at = (...keys: string[]): J =>
  keys.reduce((s: J, k) => (k === "[]" ? s.items : s.properties[k]), schema);

test("draft 2020-12 with an id and a title", () => {
  expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  expect(schema.$id).toBe(CONFIG_SCHEMA_ID);
  expect(schema.title).toContain("autosentry");
  expect(schema.additionalProperties).toBe(false);
});

test("argv accepts a string or a list", () => {
  for (const s of [
    at("process", "command"),
    at("healing", "claude", "command"),
    at("process", "stages", "[]", "command"),
  ]) {
    expect(s.anyOf.map((a: J) => a.type)).toEqual(["string", "array"]);
  }
  expect(at("process", "command").default).toEqual([]);
});

test("byte sizes accept a number or a size string", () => {
  const s = at("monitor", "process_log_max_bytes");
  expect(s.anyOf).toEqual([
    { type: "integer", exclusiveMinimum: 0 },
    { type: "string", pattern: BYTE_SIZE_PATTERN },
  ]);
  expect(s.default).toBe(50 * 1024 * 1024);
  const re = new RegExp(BYTE_SIZE_PATTERN);
  expect(["50MB", "1GiB", "64k", "100"].every((v) => re.test(v))).toBe(true);
  expect(re.test("lots")).toBe(false);
});

test("values that may be left empty accept null; env values accept scalars", () => {
  expect(at("detectors").type).toEqual(["array", "null"]);
  expect(at("process", "env").type).toEqual(["object", "null"]);
  expect(at("process", "env").additionalProperties.type).toEqual(["string", "number", "boolean"]);
});

test("required keys are the ones without a default", () => {
  expect(at("detectors", "[]").required).toEqual(["kind"]);
  expect(at("process", "stages", "[]").required).toEqual(["name", "command"]);
  expect(at("rules", "[]").required).toEqual(["match", "action"]);
  expect(schema.required).toBeUndefined();
});

test("no ±MAX_SAFE_INTEGER noise on integers", () => {
  expect(JSON.stringify(schema)).not.toContain(String(Number.MAX_SAFE_INTEGER));
});
