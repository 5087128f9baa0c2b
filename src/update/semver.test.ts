import { expect, test } from "bun:test";
import { compareVersions, isPrerelease, normalizeVersion, parseVersion } from "./semver.ts";

test("orders versions as SemVer does", () => {
  const sorted = [
    "0.9.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.10.0",
    "2.0.0",
  ];
  for (let i = 0; i < sorted.length - 1; i++) {
    expect(compareVersions(sorted[i]!, sorted[i + 1]!)).toBe(-1);
    expect(compareVersions(sorted[i + 1]!, sorted[i]!)).toBe(1);
  }
  expect(compareVersions("v1.2.3", "1.2.3+build.5")).toBe(0);
});

test("a prerelease is recognised by its dash, not by letters (the Python tool's flaw)", () => {
  expect(isPrerelease("1.0.0-rc.1")).toBe(true);
  expect(isPrerelease("1.0.0")).toBe(false);
  expect(isPrerelease("1.0.0+beta")).toBe(false);
});

test("malformed versions are rejected with the text", () => {
  expect(parseVersion("1.2")).toBeNull();
  expect(parseVersion("01.2.3")).toBeNull();
  expect(() => normalizeVersion("latest")).toThrow('Not a version: "latest"');
  expect(normalizeVersion("v0.2.0-rc.1+x")).toBe("0.2.0-rc.1");
});
