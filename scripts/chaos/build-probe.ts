/**
 * Builds dist/autosentry-probe: dist/autosentry with scripts/chaos/heap-probe.ts in front (same
 * flags as `npm run build`), for measuring what the crash-cycle scenario's RSS growth is made of.
 */
import * as path from "node:path";

const repo = path.resolve(import.meta.dir, "../..");
const r = Bun.spawnSync(
  [
    process.execPath,
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "scripts/chaos/heap-probe.ts",
    "--outfile",
    "dist/autosentry-probe",
  ],
  { cwd: repo, stdout: "inherit", stderr: "inherit" },
);
process.exit(r.exitCode ?? 1);
