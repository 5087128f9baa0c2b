import { describe, expect, test } from "bun:test";
import { compileRegex, RegexError, translateRegex } from "./regex.ts";

describe("translateRegex", () => {
  test("turns Python named groups and back-references into JavaScript ones", () => {
    const re = compileRegex("(?P<word>ab)-(?P=word)");
    expect(re.exec("ab-ab")?.groups?.word).toBe("ab");
    expect(re.test("ab-cd")).toBe(false);
  });
  test("moves leading inline flags into RegExp flags", () => {
    expect(translateRegex("(?i)cuda out of memory")).toEqual({ source: "cuda out of memory", flags: "i" });
    expect(compileRegex("(?i)CUDA out of memory").test("cuda OUT of memory")).toBe(true);
  });
  test("maps \\A and \\Z to anchors but leaves escaped backslashes alone", () => {
    expect(compileRegex("\\Astep\\Z").test("step")).toBe(true);
    expect(compileRegex("\\Astep\\Z").test("a step")).toBe(false);
    expect(translateRegex("\\\\A").source).toBe("\\\\A");
  });
  test("refuses verbose mode and reports invalid patterns", () => {
    expect(() => compileRegex("(?x) a b")).toThrow(RegexError);
    expect(() => compileRegex("(unclosed")).toThrow(/invalid regular expression/);
  });
});
