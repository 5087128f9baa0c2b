import { describe, expect, test } from "bun:test";
import { listSome, matchPrefix } from "./unique-prefix.ts";

describe("matchPrefix", () => {
  const ids = ["20261203-0650-oom-a", "20261203-0651-key-b", "20261203-0651-key-bb"];
  test("the whole id, a unique prefix, and last", () => {
    expect(matchPrefix("20261203-0650-oom-a", ids)).toEqual({ ok: true, id: "20261203-0650-oom-a" });
    expect(matchPrefix("20261203-0650", ids)).toEqual({ ok: true, id: "20261203-0650-oom-a" });
    expect(matchPrefix("last", ids)).toEqual({ ok: true, id: "20261203-0651-key-bb" });
  });
  test("an exact id wins over longer ids it prefixes", () => {
    expect(matchPrefix("20261203-0651-key-b", ids)).toEqual({ ok: true, id: "20261203-0651-key-b" });
  });
  test("ambiguous, unknown, empty", () => {
    expect(matchPrefix("20261203-0651", ids)).toEqual({
      ok: false,
      error: "ambiguous",
      matches: ["20261203-0651-key-b", "20261203-0651-key-bb"],
    });
    expect(matchPrefix("2027", ids)).toEqual({ ok: false, error: "not_found" });
    expect(matchPrefix("", ids)).toEqual({ ok: false, error: "not_found" });
    expect(matchPrefix("last", [])).toEqual({ ok: false, error: "not_found" });
  });
  test("listSome", () => {
    expect(listSome(["a", "b"])).toBe("a, b");
    expect(listSome(["a", "b", "c"], 2)).toBe("a, b and 1 more");
  });
});
