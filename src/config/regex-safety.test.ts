import { expect, test } from "bun:test";
import { translateRegex } from "./regex.ts";
import { catastrophicReason } from "./regex-safety.ts";

const reason = (src: string) => {
  const t = translateRegex(src);
  return catastrophicReason(t.source, t.flags);
};

test("the four patterns that stalled the monitor are refused, each with its reason", () => {
  expect(reason("(a+)+$")).toContain("nested quantifiers");
  expect(reason("^(a|a)+$")).toContain("overlapping alternation");
  expect(reason("(.*a){25}$")).toContain("nested quantifiers");
  expect(reason("^(\\w+\\s?)*$")).toContain("nested quantifiers");
});

test("more catastrophic shapes", () => {
  for (const src of [
    "(\\s*\\w+)*x",
    "(?:a*)*b",
    "((ab)*)+c",
    "(\\d|\\w)+!",
    "(?P<x>a+)+",
    "([a-z]+)*$",
    "(x+x+)+y",
  ])
    expect(reason(src)).not.toBeNull();
});

test("ordinary log patterns pass", () => {
  for (const src of [
    "CUDA out of memory",
    "(?i)error: (.*)",
    "loss[=:]\\s*([0-9.]+)",
    "(\\d+\\.)+\\d+",
    "[A-Z]+(_[A-Z]+)*",
    "(\\[\\d+\\])+",
    "(?:foo|bar)+",
    "^Traceback \\(most recent call last\\):$",
    "step (\\d+)/(\\d+)",
    "(\\w+=\\S+ )+",
    "NCCL (WARN|ERROR) .*timeout",
    "(?<=x)y+",
    "a{2,5}b",
  ])
    expect([src, reason(src)]).toEqual([src, null]);
});
