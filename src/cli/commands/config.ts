/**
 * @module
 * `autosentry config schema|validate|show`: the config's JSON Schema, a check of the config file,
 * and the effective config with every default filled in.
 */
import * as path from "node:path";
import { stringify } from "yaml";
import { configJsonSchema } from "../../config/json-schema.ts";
import { IMPLIED_DETECTOR_NAMES } from "../../config/load.ts";
import { deliveryFindings } from "../../dispatcher/delivery-check.ts";
import { loadConfigForCli } from "../config-option.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/** What `autosentry config schema` does (its options are declared in src/cli/tree/config.ts). */
export function configSchemaCommand(): void {
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
}

/** What `autosentry config validate` does (its options are declared in src/cli/tree/config.ts). */
export function configValidateCommand(opts: ConfigFlag): void {
  const loaded = loadConfigForCli(opts);
  const shown = displayPath(loaded.path ?? "");
  const r = loaded.data.rules.length;
  process.stdout.write(`ok: ${shown} (${detectorCount(loaded.data)}, ${r} rule${r === 1 ? "" : "s"})\n`);
  for (const f of deliveryFindings(loaded)) {
    if (f.level === "warn") process.stdout.write(`warning: ${f.name}: ${f.detail}\n`);
  }
}

/** What `autosentry config show` does (its options are declared in src/cli/tree/config.ts). */
export function configShowCommand(opts: { json?: boolean | undefined } & ConfigFlag): void {
  const loaded = loadConfigForCli(opts, { allowMissing: true });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(loaded.data, null, 2)}\n`);
    return;
  }
  const source = loaded.path
    ? `# effective config of ${displayPath(loaded.path)} (project root ${loaded.root})`
    : `# no config file found: the defaults (project root ${loaded.root})`;
  process.stdout.write(`${source}\n${stringify(loaded.data, { lineWidth: 0 })}`);
}

/**
 * "N detectors", counting the exit_code detector the monitor adds when none is configured (issue
 * 14 item 10: a config with only a command said "0 detectors" although exits are watched).
 */
export function detectorCount(data: { detectors: Array<{ kind: string }> }): string {
  const implied = data.detectors.some((d) => d.kind === "exit_code") ? [] : IMPLIED_DETECTOR_NAMES;
  const n = data.detectors.length + implied.length;
  const note = implied.length > 0 ? ` (${implied.join(", ")} implied)` : "";
  return `${n} detector${n === 1 ? "" : "s"}${note}`;
}

/** A path relative to the cwd when it is inside it, else absolute. */
function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}
