/**
 * @module
 * The measurement behind NOT storing the grammars compressed (docs/distribution.md, "Sizes"): what
 * it would cost at run time: for each grammar, the time to inflate it
 * (zstd) and to load it into tree-sitter from the inflated bytes versus from the plain file. Each
 * process measures one way only (a second load in the same process would be warm), and the two
 * ways alternate (first use is the case that matters). Prints a markdown table: median and
 * min-max over the runs. (The binary and archive sizes of that variant were measured by building it; see the doc.)
 *
 *   bun scripts/release/bench-grammars.ts [runs=9]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Language, Parser } from "web-tree-sitter";
import { GRAMMAR_IDS, MANIFEST } from "../../src/frames/manifest.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
/** The zstd level that was tried (level 19 took seconds per transpile from source). */
const ZSTD_LEVEL = 3;

async function once(mode: string): Promise<void> {
  await Parser.init();
  const out: Record<
    string,
    { inflate: number; fromBytes: number; fromFile: number; raw: number; packed: number }
  > = {};
  for (const id of GRAMMAR_IDS) {
    const spec = MANIFEST.languages[id];
    const file = Bun.resolveSync(`${spec.package}/${spec.wasm}`, ROOT);
    const raw = fs.readFileSync(file);
    const packed = Buffer.from(Bun.zstdCompressSync(raw, { level: ZSTD_LEVEL })).toString("base64");
    let fromFile = Number.NaN;
    let inflate = Number.NaN;
    let fromBytes = Number.NaN;
    const t = performance.now();
    if (mode === "file") {
      await Language.load(file);
      fromFile = performance.now() - t;
    } else {
      const bytes = Bun.zstdDecompressSync(Buffer.from(packed, "base64"));
      inflate = performance.now() - t;
      await Language.load(bytes);
      fromBytes = performance.now() - t;
    }
    out[id] = { inflate, fromBytes, fromFile, raw: raw.length, packed: packed.length };
  }
  console.log(JSON.stringify(out));
}

if (process.argv[2] === "--once") {
  await once(process.argv[3] ?? "bytes");
} else {
  const runs = Number(process.argv[2] ?? 9);
  const samples: Array<
    Record<string, { inflate: number; fromBytes: number; fromFile: number; raw: number; packed: number }>
  > = [];
  for (let i = 0; i < runs * 2; i++) {
    const mode = i % 2 === 0 ? "file" : "bytes";
    const r = Bun.spawnSync([process.execPath, import.meta.path, "--once", mode], {
      cwd: ROOT,
      stdout: "pipe",
    });
    samples.push(JSON.parse(r.stdout.toString()));
  }
  const stat = (xs: number[]) => {
    const s = xs.filter((x) => typeof x === "number" && !Number.isNaN(x)).sort((a, b) => a - b);
    return `${s[s.length >> 1]!.toFixed(2)} (${s[0]!.toFixed(2)}-${s.at(-1)!.toFixed(2)})`;
  };
  console.log(`Bun ${Bun.version}, ${runs} fresh processes per way; ms, median (min-max)\n`);
  console.log(
    "| grammar | wasm | embedded (zstd, base64) | inflate | load from inflated bytes (incl. inflate) | load from file |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const id of GRAMMAR_IDS) {
    const col = (k: "inflate" | "fromBytes" | "fromFile") => stat(samples.map((s) => s[id]![k]));
    console.log(
      `| ${id} | ${samples[0]![id]!.raw} B | ${samples[0]![id]!.packed} B | ${col("inflate")} | ${col("fromBytes")} | ${col("fromFile")} |`,
    );
  }
}
