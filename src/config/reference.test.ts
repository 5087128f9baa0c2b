import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { extractReferenceSection, renderConfigReference, replaceReferenceSection } from "./reference.ts";

test("README.md's config reference matches the schema", () => {
  const readme = fs.readFileSync(path.join(import.meta.dir, "..", "..", "README.md"), "utf8");
  const current = extractReferenceSection(readme);
  expect(current).not.toBeNull();
  const expected = renderConfigReference();
  if (current !== expected) {
    throw new Error(
      "README.md's configuration reference is out of date: run `node_modules/.bin/bun scripts/gen-config-reference.ts`",
    );
  }
});

test("the reference has a table per section and every key of the schema", () => {
  const ref = renderConfigReference();
  for (const section of [
    "process",
    "monitor",
    "detectors",
    "rules",
    "healing",
    "notifiers",
    "vault",
    "top level",
  ]) {
    expect(ref).toContain(`### ${section}\n\n| key | type | default | description |`);
  }
  expect(ref).toContain("| `process.restart_policy.max_restarts` | integer | `50` |");
  expect(ref).toContain(
    "| `detectors[].kind` | `pattern` \\| `traceback` \\| `stall` \\| `exit_code` \\| `metric` \\| `resource` \\| `heartbeat` \\| `probe` \\| `completion` | required |",
  );
  expect(ref).toContain("| `monitor.process_log_max_bytes` | bytes (number or `50MB`) |");
  expect(ref).toContain("| `state_path` | string | `.autosentry/state.json` |");
});

test("replaceReferenceSection only touches the text between the markers", () => {
  const readme = "# x\n\n<!-- config-reference:start -->\nold\n<!-- config-reference:end -->\n\ntail\n";
  const out = replaceReferenceSection(readme, "new\n");
  expect(out).toBe("# x\n\n<!-- config-reference:start -->\nnew\n<!-- config-reference:end -->\n\ntail\n");
  expect(extractReferenceSection(out)).toBe("new\n");
  expect(() => replaceReferenceSection("no markers", "x")).toThrow("markers");
});
