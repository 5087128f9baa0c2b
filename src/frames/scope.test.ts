import { expect, test } from "bun:test";
import { parseSource } from "./grammars.ts";
import { type GrammarId, MANIFEST } from "./manifest.ts";
import { findScope, labelOf, type Scope } from "./scope.ts";

/** The scope of the line containing `marker` (a unique substring) in `source`. */
async function scopeAt(id: GrammarId, source: string, marker: string): Promise<Scope | null> {
  const lines = source.split("\n");
  const idx = lines.findIndex((l) => l.includes(marker));
  if (idx < 0) throw new Error(`marker not found: ${marker}`);
  const tree = await parseSource(id, source);
  try {
    return findScope(tree.rootNode, idx + 1, lines[idx]!, MANIFEST.languages[id]);
  } finally {
    tree.delete();
  }
}

test("python: a decorated method includes its decorators; the header is the def line", async () => {
  const src = [
    "class A:",
    "    @staticmethod",
    "    @cache",
    "    def f(x):",
    "        return 1 / x  # HERE",
    "",
  ].join("\n");
  expect(await scopeAt("python", src, "HERE")).toMatchObject({
    name: "f",
    className: "A",
    label: "method",
    startLine: 2,
    headerLine: 4,
    endLine: 5,
  });
});

test("python: a lambda inside a method belongs to the method", async () => {
  const src = [
    "class A:",
    "    def f(self, xs):",
    "        return sorted(xs, key=lambda x: 1 / x)  # HERE",
    "",
  ].join("\n");
  expect(await scopeAt("python", src, "HERE")).toMatchObject({ name: "f", className: "A" });
});

test("python: a nested function is its own scope, and the class is the outer one", async () => {
  const src = [
    "class A:",
    "    def f(self):",
    "        def inner():",
    "            boom()  # HERE",
    "        inner()",
    "",
  ].join("\n");
  expect(await scopeAt("python", src, "HERE")).toMatchObject({
    name: "inner",
    className: "A",
    startLine: 3,
    endLine: 4,
  });
});

test("python: a class-level statement gives the class; top level gives nothing", async () => {
  const src = [
    "X = 1  # TOP",
    "class Config:",
    "    size = compute()  # BODY",
    "    def f(self):",
    "        pass",
    "",
  ].join("\n");
  expect(await scopeAt("python", src, "BODY")).toMatchObject({
    kind: "class",
    name: "Config",
    label: "class",
    startLine: 2,
    endLine: 5,
  });
  expect(await scopeAt("python", src, "TOP")).toBeNull();
});

test("javascript: arrow functions take the name they are assigned to", async () => {
  const src = [
    "const load = async (url) => {",
    "  throw new Error(url); // ARROW",
    "};",
    "class Svc {",
    "  handle = () => {",
    "    boom(); // FIELD",
    "  };",
    "  run() {",
    "    [1].map((x) => {",
    "      boom(x); // CALLBACK",
    "    });",
    "  }",
    "}",
    "setTimeout(() => {",
    "  boom(); // ANON",
    "});",
  ].join("\n");
  expect(await scopeAt("javascript", src, "ARROW")).toMatchObject({
    name: "load",
    className: null,
    label: "arrow function",
  });
  expect(await scopeAt("javascript", src, "FIELD")).toMatchObject({ name: "handle", className: "Svc" });
  expect(await scopeAt("javascript", src, "CALLBACK")).toMatchObject({
    name: "run",
    className: "Svc",
    label: "method",
  });
  expect(await scopeAt("javascript", src, "ANON")).toMatchObject({
    name: null,
    label: "arrow function",
    startLine: 14,
  });
});

test("typescript: abstract classes and class-field arrows", async () => {
  const src = [
    "abstract class Repo<T> {",
    "  find = async (id: string): Promise<T> => {",
    "    throw new Error(id); // HERE",
    "  };",
    "}",
  ].join("\n");
  expect(await scopeAt("typescript", src, "HERE")).toMatchObject({
    name: "find",
    className: "Repo",
    classLabel: "abstract class",
  });
});

test("go: a closure inside a method belongs to the method; generic receivers are named", async () => {
  const src = [
    "package main",
    "type Stack[T any] struct{ items []T }",
    "func (s *Stack[T]) Each(f func(T)) {",
    "\tfor _, it := range s.items {",
    "\t\tfunc() {",
    '\t\t\tpanic("x") // HERE',
    "\t\t}()",
    "\t}",
    "}",
  ].join("\n");
  expect(await scopeAt("go", src, "HERE")).toMatchObject({
    name: "Each",
    className: "Stack",
    classLabel: "type",
  });
});

test("rust: trait impls name the type; closures belong to their function", async () => {
  const src = [
    "impl fmt::Display for Money {",
    "    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {",
    "        let g = |x: i64| {",
    '            panic!("x"); // HERE',
    "        };",
    "        Ok(())",
    "    }",
    "}",
    "trait Store {",
    "    fn get(&self) {",
    "        todo!() // TRAIT",
    "    }",
    "}",
  ].join("\n");
  expect(await scopeAt("rust", src, "HERE")).toMatchObject({
    name: "fmt",
    className: "Money",
    label: "method",
    classLabel: "impl",
  });
  expect(await scopeAt("rust", src, "TRAIT")).toMatchObject({
    name: "get",
    className: "Store",
    classLabel: "trait",
  });
});

test("java: constructors, nested classes and lambdas", async () => {
  const src = [
    "class Outer {",
    "  static class Inner {",
    "    Inner() {",
    "      throw new RuntimeException(); // CTOR",
    "    }",
    "    void each(java.util.List<Integer> xs) {",
    "      xs.forEach(x -> {",
    "        throw new RuntimeException(); // LAMBDA",
    "      });",
    "    }",
    "  }",
    "}",
  ].join("\n");
  expect(await scopeAt("java", src, "CTOR")).toMatchObject({
    name: "Inner",
    className: "Inner",
    label: "constructor",
  });
  expect(await scopeAt("java", src, "LAMBDA")).toMatchObject({
    name: "each",
    className: "Inner",
    label: "method",
  });
});

test("a file with syntax errors still yields the scope around the line", async () => {
  const src = ["class A:", "    def f(self):", "        x = (1 +", "        boom()  # HERE", ""].join("\n");
  expect(await scopeAt("python", src, "HERE")).toMatchObject({ name: "f", className: "A" });
});

test("labels read as words", () => {
  expect(labelOf("class_definition")).toBe("class");
  expect(labelOf("impl_item")).toBe("impl");
  expect(labelOf("arrow_function")).toBe("arrow function");
  expect(labelOf("closure_expression")).toBe("closure");
  expect(labelOf("func_literal")).toBe("function literal");
  expect(labelOf("abstract_class_declaration")).toBe("abstract class");
});
