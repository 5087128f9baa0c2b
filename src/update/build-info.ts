/**
 * @module
 * What the release build stamped into this binary: its version (when the build overrides
 * package.json's, e.g. a test building "the next release") and its release target
 * (`linux-x64-baseline`, …), so `autosentry update` fetches the same variant it is. Both are
 * `bun build --define` constants set by scripts/release.ts; a plain `npm run build` or `bun main.ts`
 * leaves them undefined and the target is detected instead (target.ts).
 */

declare const AUTOSENTRY_BUILD_VERSION: string | undefined;
declare const AUTOSENTRY_BUILD_TARGET: string | undefined;

/** The version the release build stamped, or null. */
export const BUILD_VERSION: string | null =
  typeof AUTOSENTRY_BUILD_VERSION === "string" ? AUTOSENTRY_BUILD_VERSION : null;

/** The release target this binary was built for, or null (not a release build). */
export const BUILD_TARGET: string | null =
  typeof AUTOSENTRY_BUILD_TARGET === "string" ? AUTOSENTRY_BUILD_TARGET : null;
