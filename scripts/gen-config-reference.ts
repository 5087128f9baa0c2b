/**
 * Rewrite the configuration reference in README.md (between `<!-- config-reference:start -->` and
 * `<!-- config-reference:end -->`) from the config schema. Run after changing src/config/schema.ts:
 *
 *   node_modules/.bin/bun scripts/gen-config-reference.ts
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderConfigReference, replaceReferenceSection } from "../src/config/reference.ts";

const readmePath = path.join(import.meta.dir, "..", "README.md");
const before = fs.readFileSync(readmePath, "utf8");
const after = replaceReferenceSection(before, renderConfigReference());
if (after === before) {
  console.log("README.md: config reference already up to date");
} else {
  fs.writeFileSync(readmePath, after);
  console.log("README.md: config reference updated");
}
