import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadGrammar, WASM_PATHS } from "./grammars.ts";
import { extensionOf, fenceLanguage, GRAMMAR_IDS, grammarForFile, MANIFEST } from "./manifest.ts";

const ROOT = path.resolve(import.meta.dir, "../..");

function installedVersion(pkg: string): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
}

describe("grammars/manifest.json agrees with the embedded files and the grammars", () => {
  test("the runtime import is the manifest's package, file and pinned version", () => {
    const rt = MANIFEST.runtime;
    expect(WASM_PATHS.runtime).toEndWith(path.join("node_modules", rt.package, rt.wasm));
    expect(installedVersion(rt.package)).toBe(rt.version);
    const pinned = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies;
    expect(pinned[rt.package]).toBe(rt.version);
  });

  test.each([...GRAMMAR_IDS])("%s: import, package, version and pin match", (id) => {
    const spec = MANIFEST.languages[id];
    expect(WASM_PATHS[id]).toEndWith(path.join("node_modules", spec.package, spec.wasm));
    expect(fs.existsSync(WASM_PATHS[id])).toBe(true);
    expect(installedVersion(spec.package)).toBe(spec.version);
    const pinned = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies;
    expect(pinned[spec.package]).toBe(spec.version);
  });

  test.each([...GRAMMAR_IDS])("%s: every node type and field named in the manifest exists", async (id) => {
    const spec = MANIFEST.languages[id];
    const lang = await loadGrammar(id);
    const types = [
      ...spec.functions,
      ...spec.classes,
      ...spec.anonymous,
      ...spec.wrappers,
      ...Object.keys(spec.nameFromParent),
      ...Object.keys(spec.nameFields),
      ...Object.keys(spec.receivers),
    ];
    const missing = types.filter((t) => lang.idForNodeType(t, true) === null);
    expect(missing).toEqual([]);
    const fields = [
      ...Object.values(spec.nameFromParent),
      ...Object.values(spec.nameFields),
      ...Object.values(spec.receivers),
    ];
    expect(fields.filter((f) => lang.fieldIdForName(f) === null)).toEqual([]);
    for (const a of spec.anonymous) expect(spec.functions).toContain(a);
  });

  test("no extension belongs to two languages", () => {
    const all = GRAMMAR_IDS.flatMap((id) => MANIFEST.languages[id].extensions);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("file → language", () => {
  test.each([
    ["/w/train.py", "python", "python"],
    ["src/app.MJS", "javascript", "javascript"],
    ["a/b.cjs", "javascript", "javascript"],
    ["x.ts", "typescript", "typescript"],
    ["x.d.mts", "typescript", "typescript"],
    ["ui/Panel.tsx", "tsx", "tsx"],
    ["main.go", "go", "go"],
    ["src/lib.rs", "rust", "rust"],
    ["Cart.java", "java", "java"],
    ["fast.pyx", null, "cython"],
    ["ring.c", null, "c"],
    ["Makefile", null, "text"],
    [".bashrc", null, "text"],
  ])("%s → %p (fence %s)", (file, id, fence) => {
    expect(grammarForFile(file)).toBe(id as ReturnType<typeof grammarForFile>);
    expect(fenceLanguage(file)).toBe(fence);
  });

  test("extensionOf ignores dots in directories and leading dots", () => {
    expect(extensionOf("/a.b/c")).toBe("");
    expect(extensionOf("/a/.env")).toBe("");
    expect(extensionOf("C:\\x\\Y.PY")).toBe(".py");
  });
});
