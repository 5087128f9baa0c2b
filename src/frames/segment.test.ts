import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Frame } from "../core/types.ts";
import { explodeFrames } from "./explode.ts";
import { parseSource } from "./grammars.ts";
import { type GrammarId, MANIFEST } from "./manifest.ts";
import { findScope } from "./scope.ts";
import { SEGMENT_MIN_LINES, topLevelSegment } from "./segment.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** `block(i)` repeated until the file is long enough to be segmented. */
function big(block: (i: number) => string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; lines.length < SEGMENT_MIN_LINES * 2; i++) lines.push(...block(i));
  return lines;
}

const PYTHON = big((i) => [
  `@register("h${i}")`,
  "@cache",
  `def handler_${i}(x):`,
  "    def inner(y):",
  "        return y / x",
  "    return inner(x)",
  "",
  `class Service${i}:`,
  '    """Docs.',
  "def not_a_function_but_docstring_text():",
  '    """',
  "",
  "    def run(self, batch):",
  "        total = sum(",
  "            batch",
  "        )",
  "        return total / len(batch)",
  "",
  `CONSTANT_${i} = handler_${i}(${i})`,
  "",
]);

const TYPESCRIPT = big((i) => [
  `export class Repo${i} {`,
  "  find(id: string): number {",
  "    const msg = `",
  "function looksLikeADeclaration() {",
  "`;",
  "    throw new Error(msg + id);",
  "  }",
  "}",
  `export const load${i} = async (url: string) => {`,
  "  return fetch(url);",
  "};",
  `describe("suite ${i}", () => {`,
  "  it('works', () => {",
  "    expect(1).toBe(1);",
  "  });",
  "});",
  "",
]);

const GO = big((i) => [
  `// Store${i} keeps things.`,
  `type Store${i} struct{ n int }`,
  "",
  `func (s *Store${i}) Get(k string) int {`,
  "\tf := func() int {",
  "\t\treturn s.n",
  "\t}",
  "\treturn f()",
  "}",
  "",
]);

const RUST = big((i) => [
  "#[derive(Debug)]",
  `struct S${i} { n: i64 }`,
  `impl S${i} {`,
  "    /// Docs.",
  "    fn get(&self) -> i64 {",
  "        let f = || self.n;",
  "        f()",
  "    }",
  "}",
  "",
]);

describe("topLevelSegment", () => {
  test("short files and Java are parsed whole", () => {
    expect(topLevelSegment(PYTHON.slice(0, 100), 50, "python")).toBeNull();
    expect(
      topLevelSegment(
        big(() => ["class A {", "  void f() {}", "}"]),
        500,
        "java",
      ),
    ).toBeNull();
  });

  test("python: from the decorators of the declaration to the line before the next one", () => {
    // PYTHON[20..] is block 1: decorators on lines 21-22, def on 23.
    expect(topLevelSegment(PYTHON, 25, "python")).toEqual({ start: 21, end: 27 });
    // A method line: its class starts at line 28 and the docstring line at column 0 ends the guess early.
    expect(topLevelSegment(PYTHON, 34, "python")).toEqual({ start: 30, end: 40 });
  });

  test("a segment that is most of the file is not worth it", () => {
    const lines = [...Array.from({ length: 500 }, (_, i) => `    x${i} = ${i}`)];
    lines.unshift("def huge():");
    expect(topLevelSegment(lines, 300, "python")).toBeNull();
  });
});

describe("a segment parse finds the same scope as a whole-file parse, on every line", () => {
  const cases: [GrammarId, string, string[]][] = [
    ["python", "py", PYTHON],
    ["typescript", "ts", TYPESCRIPT],
    ["go", "go", GO],
    ["rust", "rs", RUST],
  ];
  test.each(cases)("%s", async (id, ext, lines) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "frames-seg-"));
    made.push(dir);
    const file = path.join(dir, `big.${ext}`);
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    const frames: Frame[] = lines.map((_, i) => ({ file, line: i + 1, function: null, raw: "" }));
    const out = await explodeFrames(
      { language: "python", text: "", exceptions: [{ type: "E", message: "", frames }] },
      {
        cwd: dir,
        skipPaths: [],
        maxFrames: frames.length,
        contextLines: 0,
        scopeWindowLines: 60,
        languages: [id],
        git: false,
      },
    );
    const tree = await parseSource(id, lines.join("\n"));
    try {
      const spec = MANIFEST.languages[id];
      const differ: number[] = [];
      for (const [i, ef] of out.entries()) {
        const whole = findScope(tree.rootNode, i + 1, lines[i]!, spec);
        if (JSON.stringify(ef.scope) !== JSON.stringify(whole)) differ.push(i + 1);
      }
      expect(differ).toEqual([]);
      // The point of the test: most lines are in a segment, so the segment path was really taken.
      const segmented = lines.filter((_, i) => topLevelSegment(lines, i + 1, id) !== null).length;
      expect(segmented).toBeGreaterThan(lines.length / 2);
    } finally {
      tree.delete();
    }
  });
});
