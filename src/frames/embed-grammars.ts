/**
 * @module
 * A Bun macro (imported `with { type: "macro" }`): runs when grammars.ts is bundled or transpiled,
 * never at run time. It reads grammars/manifest.json, takes each language's `.wasm` from its npm
 * package and returns it zstd-compressed, base64-encoded, so the binary carries 0.8 MB of
 * grammars instead of 5.7 MB (docs/distribution.md has the measurement). grammars.ts inflates a
 * grammar on its first use, in about a millisecond.
 *
 * The macro also runs each time grammars.ts is transpiled from source (`bun test`, `bun main.ts`),
 * so the level is chosen for speed: level 3 compresses all grammars in tens of milliseconds; level 19
 * would save another 0.1 MB of a 116 MB binary and cost seconds on every start from source.
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface Manifest {
  languages: Record<string, { package: string; wasm: string }>;
}

/** zstd level of the embedded grammars (the benchmark uses it too). */
export const ZSTD_LEVEL = 3;

/** Language id → base64 of the zstd-compressed grammar wasm. */
export function compressedGrammars(): Record<string, string> {
  const root = path.resolve(import.meta.dir, "../..");
  const manifest = JSON.parse(
    fs.readFileSync(path.join(root, "grammars", "manifest.json"), "utf8"),
  ) as Manifest;
  const out: Record<string, string> = {};
  for (const [id, spec] of Object.entries(manifest.languages)) {
    const file = Bun.resolveSync(`${spec.package}/${spec.wasm}`, root);
    out[id] = Buffer.from(Bun.zstdCompressSync(fs.readFileSync(file), { level: ZSTD_LEVEL })).toString(
      "base64",
    );
  }
  return out;
}
