// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text with literal ${VAR} references
import { describe, expect, test } from "bun:test";
import { INTERPOLATED_PATHS, InterpolationError, interpolate, mapPaths } from "./interpolate.ts";

describe("interpolate", () => {
  const env = { A: "1", EMPTY: "", LONG_NAME_2: "x" };

  test("forms", () => {
    expect(interpolate("$A/${A}/${LONG_NAME_2}", env)).toBe("1/1/x");
    expect(interpolate("${NOPE:-d}|${EMPTY:-d}|${NOPE-d}|${EMPTY-d}", env)).toBe("d|d|d|");
    expect(interpolate("${NOPE:-}", env)).toBe("");
    expect(interpolate("$$A $$ $", env)).toBe("$A $ $");
  });

  test("a $ that cannot start a name is kept", () => {
    expect(interpolate("cost $5, $-x, end$", env)).toBe("cost $5, $-x, end$");
  });

  test("errors", () => {
    expect(() => interpolate("$NOPE", env)).toThrow("environment variable NOPE is not set");
    expect(() => interpolate("${A", env)).toThrow(InterpolationError);
    expect(() => interpolate("${1A}", env)).toThrow('bad variable reference "${1A}"');
    expect(() => interpolate("${A:x}", env)).toThrow(InterpolationError);
  });
});

test("mapPaths visits only the listed values", () => {
  const data = {
    process: { command: ["a", "$A"], env: { K: "$A" }, stages: [{ command: "b $A", env: { S: "$A" } }] },
    detectors: [{ regex: "$A" }],
    rules: [{ name: "$A", action: { command: ["$A"] } }],
  };
  const seen: string[] = [];
  mapPaths(data, INTERPOLATED_PATHS, (v, p) => {
    if (typeof v === "string") seen.push(p.join("."));
    return v;
  });
  expect(seen.sort()).toEqual(
    [
      "process.command.1",
      "process.command.0",
      "process.env.K",
      "process.stages.0.command",
      "process.stages.0.env.S",
      "rules.0.action.command.0",
    ].sort(),
  );
});
