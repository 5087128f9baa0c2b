/**
 * `npm run chaos` — the chaos suite of issue 16 at full size (under 30 minutes on two cores), or
 * `--quick` (the CI sizes), or named scenarios: `bun scripts/chaos/run.ts crash-cycles secrets`.
 * Needs root (tmpfs and bind mounts) and a built dist/autosentry. Prints one Markdown table row
 * per scenario (the format of docs/reliability.md) and exits 1 when anything was lost.
 */
import * as fs from "node:fs";
import { BIN, type ChaosResult, cleanUp } from "./harness.ts";
import { SCENARIOS } from "./scenarios.ts";

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(`Usage: bun scripts/chaos/run.ts [--quick] [scenario …]

  --quick   the CI sizes (tests/e2e/chaos-suite.test.ts runs these inside npm test)
  scenario  run only these: ${SCENARIOS.map((s) => s.name).join(", ")}

Environment: AUTOSENTRY_CHAOS_BIN (the binary under test, default dist/autosentry),
AUTOSENTRY_CHAOS_PROBE_BIN (crash-cycles: the probe build from scripts/chaos/build-probe.ts, to
measure memory after a forced GC), AUTOSENTRY_KEEP_TEST_DIRS=1 (keep the scratch projects).
Needs root (tmpfs, bind mounts), python3 and git. Results: docs/reliability.md.`);
  process.exit(0);
}
const quick = args.includes("--quick");
const names = args.filter((a) => !a.startsWith("--"));
if (!fs.existsSync(BIN)) {
  console.error(`${BIN} is missing: run \`npm run build\` first`);
  process.exit(2);
}
const chosen = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
if (chosen.length === 0) {
  console.error(`No such scenario; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  process.exit(2);
}

const results: ChaosResult[] = [];
console.log("| scenario | injected | how often | what was lost | notes | seconds |");
console.log("|---|---|---|---|---|---|");
for (const s of chosen) {
  const r = await (quick ? s.quick() : s.full());
  cleanUp();
  results.push(r);
  const all = [...r.lost, ...r.known.map((k) => `known: ${k}`)];
  const lost = all.length ? all.join("; ") : "nothing";
  console.log(
    `| ${r.scenario} | ${r.injected} | ${r.trials} | ${lost} | ${r.notes.join("; ")} | ${r.seconds} |`,
  );
}
process.exit(results.some((r) => r.lost.length > 0) ? 1 : 0);
