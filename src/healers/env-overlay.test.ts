import { describe, expect, test } from "bun:test";
import { childEnvironment, resolveOverlay } from "./env-overlay.ts";

describe("resolveOverlay()", () => {
  test("half reads process.env when there is no overlay yet", () => {
    const r = resolveOverlay(
      { BATCH_SIZE: "half" },
      { overlay: {}, processEnv: { BATCH_SIZE: "64" }, monitorEnv: {} },
    );
    expect(r.values).toEqual({ BATCH_SIZE: "32" });
    expect(r.notes).toEqual(["BATCH_SIZE=32 (half of 64 from process.env)"]);
  });
  test("the overlay wins over process.env, which wins over the monitor's env", () => {
    const src = {
      overlay: { N: "8" },
      processEnv: { N: "64", M: "10" },
      monitorEnv: { N: "1", M: "3", K: "5" },
    };
    expect(resolveOverlay({ N: "half", M: "double", K: "double" }, src).values).toEqual({
      N: "4",
      M: "20",
      K: "10",
    });
  });
  test("half never goes below 1 and keeps floats as floats", () => {
    const r = resolveOverlay(
      { A: "half", LR: "half" },
      { overlay: { A: "1", LR: "0.001" }, processEnv: {}, monitorEnv: {} },
    );
    expect(r.values).toEqual({ A: "1", LR: "0.0005" });
  });
  test("literals pass through and unresolvable keys are reported, not guessed", () => {
    const r = resolveOverlay(
      { MODE: "safe", X: "half", Y: "double" },
      { overlay: {}, processEnv: { Y: "abc" }, monitorEnv: {} },
    );
    expect(r.values).toEqual({ MODE: "safe" });
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toContain("X: cannot take half");
    expect(r.errors[1]).toContain('non-numeric value "abc"');
  });
});

describe("childEnvironment()", () => {
  test("layers monitor env, process.env and overlay in that order", () => {
    expect(childEnvironment({ A: "1", B: "1", U: undefined }, { B: "2", C: "2" }, { C: "3" })).toEqual({
      A: "1",
      B: "2",
      C: "3",
    });
  });
});
