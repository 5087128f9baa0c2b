/**
 * @module
 * update.sh is install.sh in update mode: the same file with `MODE=update`. Generating it keeps one
 * implementation (tests/e2e/install.test.ts fails when the committed update.sh is stale).
 *
 *   bun scripts/release/gen-update-sh.ts          # writes update.sh
 *   bun scripts/release/gen-update-sh.ts --check  # exit 1 when update.sh is not up to date
 */
import * as fs from "node:fs";
import * as path from "node:path";

const REPO = path.resolve(import.meta.dir, "../..");

/** update.sh's text, derived from install.sh's. */
export function updateScript(installSh: string): string {
  if (!installSh.includes("\nMODE=install\n"))
    throw new Error("install.sh: the line MODE=install is missing");
  return installSh
    .replace("\nMODE=install\n", "\nMODE=update\n")
    .replace(
      "#!/bin/sh\n",
      "#!/bin/sh\n# GENERATED from install.sh by scripts/release/gen-update-sh.ts: edit install.sh, not this file.\n",
    );
}

if (import.meta.main) {
  const want = updateScript(fs.readFileSync(path.join(REPO, "install.sh"), "utf8"));
  const file = path.join(REPO, "update.sh");
  if (process.argv.includes("--check")) {
    const have = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (have !== want) {
      console.error("update.sh is stale: run bun scripts/release/gen-update-sh.ts");
      process.exit(1);
    }
  } else {
    fs.writeFileSync(file, want, { mode: 0o755 });
  }
}
