/**
 * @module
 * autosentry's version, read from package.json at build time (never a hand-written string). A release
 * build may stamp another one (scripts/release.ts `--version`, see src/update/build-info.ts).
 */
import pkg from "../../package.json" with { type: "json" };
import { BUILD_VERSION } from "../update/build-info.ts";

export const VERSION: string = BUILD_VERSION ?? pkg.version;
