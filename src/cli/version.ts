/**
 * @module
 * autosentry's version, read from package.json at build time (never a hand-written string).
 */
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
