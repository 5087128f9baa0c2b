/**
 * @module
 * Where the config lives and what its relative paths are relative to.
 *
 * The project root is the directory that holds `.autosentry/`: for `<root>/.autosentry/autosentry.yaml`
 * it is `<root>`; for a config anywhere else (the legacy `autosentry.yaml` in the project root, or
 * a file named with `-c`) it is the file's own directory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mapPaths, PATH_FIELDS } from "./interpolate.ts";
import type { ConfigData } from "./schema.ts";

/** The config directory's name inside a project. */
export const CONFIG_DIR = ".autosentry";
/** The config file's name inside {@link CONFIG_DIR}. */
export const CONFIG_FILE = "autosentry.yaml";
/** Where older versions of the Python tool kept the config: `autosentry.yaml` in the project root. */
export const LEGACY_CONFIG_FILE = "autosentry.yaml";

/** Default outbox file per notifier kind, relative to the project root. */
export const DEFAULT_OUTBOX: Readonly<Record<string, string>> = {
  slack_outbox: ".autosentry/slack_outbox.jsonl",
  discord_outbox: ".autosentry/discord_outbox.jsonl",
};

/**
 * The config file to use: `explicit` (resolved against `cwd`) when given; else the nearest
 * `.autosentry/autosentry.yaml` in `cwd` or one of its parents; else a legacy `autosentry.yaml`
 * in `cwd`; else null.
 */
export function findConfigPath(cwd: string, explicit?: string): string | null {
  if (explicit) return path.resolve(cwd, explicit);
  let dir = path.resolve(cwd);
  for (;;) {
    const candidate = path.join(dir, CONFIG_DIR, CONFIG_FILE);
    if (isFile(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const legacy = path.join(path.resolve(cwd), LEGACY_CONFIG_FILE);
  return isFile(legacy) ? legacy : null;
}

/** The project root for a config file (see the module comment). */
export function projectRootFor(configPath: string): string {
  const dir = path.dirname(path.resolve(configPath));
  return path.basename(dir) === CONFIG_DIR ? path.dirname(dir) : dir;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Make every path-valued field of `data` absolute against `root` (in place), and fill in the
 * per-kind default outbox path of chat notifiers.
 */
export function resolveConfigPaths(data: ConfigData, root: string): ConfigData {
  for (const n of data.notifiers) {
    if (n.outbox_path === undefined && DEFAULT_OUTBOX[n.kind]) n.outbox_path = DEFAULT_OUTBOX[n.kind];
  }
  mapPaths(data, PATH_FIELDS, (v) => (typeof v === "string" ? path.resolve(root, v) : v));
  return data;
}
