import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const FIXTURES = path.resolve(import.meta.dir, "../../tests/fixtures/frames");

test("grammars load lazily: none at import, only the languages of the frames seen, once", () => {
  // A fresh process, so that other tests' grammars do not count.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "frames-lazy-"));
  const script = path.join(dir, "lazy.ts");
  fs.writeFileSync(
    script,
    `
import { explodeFrames } from ${JSON.stringify(path.join(import.meta.dir, "explode.ts"))};
import { loadedGrammars } from ${JSON.stringify(path.join(import.meta.dir, "grammars.ts"))};
const opts = { cwd: ${JSON.stringify(FIXTURES)}, skipPaths: [], maxFrames: 20, contextLines: 3,
  scopeWindowLines: 60, languages: ["python", "javascript", "typescript", "tsx", "go", "rust", "java"], git: false };
const trace = (file: string, line: number) => ({ language: "python" as const, text: "",
  exceptions: [{ type: "E", message: "", frames: [{ file, line, function: null, raw: "" }] }] });
const seen: string[][] = [loadedGrammars()];
await explodeFrames(trace("other/ring.c", 12), opts);
seen.push(loadedGrammars());
await explodeFrames(trace("python/app.py", 19), opts);
seen.push(loadedGrammars());
await explodeFrames(trace("python/app.py", 54), opts);
await explodeFrames(trace("go/main.go", 13), { ...opts, languages: ["python"] });
seen.push(loadedGrammars());
await explodeFrames(trace("go/main.go", 13), opts);
seen.push(loadedGrammars().sort());
console.log(JSON.stringify(seen));
`,
  );
  const r = Bun.spawnSync([process.execPath, script], { cwd: dir });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(r.stderr.toString()).toBe("");
  expect(JSON.parse(r.stdout.toString())).toEqual([[], [], ["python"], ["python"], ["go", "python"]]);
});
