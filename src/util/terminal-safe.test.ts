import { expect, test } from "bun:test";
import { escapeControls, escapeJsonControls } from "./terminal-safe.ts";

test("escape sequences are shown, not sent; newlines and tabs pass", () => {
  expect(escapeControls("a\x1b]0;pwned\x07b\n\tc\x9b2J\r")).toBe("a\\x1b]0;pwned\\x07b\n\tc\\x9b2J\\x0d");
});

test("JSON stays valid and keeps its value", () => {
  const v = { s: "x\x1b[31m\x9by\x7f" };
  const out = escapeJsonControls(JSON.stringify(v));
  expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  expect(JSON.parse(out)).toEqual(v);
});
