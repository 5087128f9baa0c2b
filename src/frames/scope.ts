/**
 * @module
 * The enclosing function (and its class) of a source line, from a tree-sitter tree.
 *
 * Starting at the node under the first non-blank column of the line, walk the parents. The scope
 * is the innermost *named* function-like ancestor (an arrow function or lambda inside a method
 * counts as part of the method, as the trace usually names the method); an anonymous function
 * takes a name from where it is assigned (`const f = () => …`) and is used as is when nothing
 * around it has a name. The class is the nearest class-like ancestor of that function, or the
 * receiver type for a Go method. A line in a class body but outside any function gives the class
 * itself; a line at top level gives nothing (the caller shows a plain line window).
 */
import type { Node } from "web-tree-sitter";
import type { GrammarSpec } from "./manifest.ts";

/** What encloses a frame's line. Lines are 1-based and inclusive. */
export interface Scope {
  /** `function` when a function-like node was found, `class` when only a class encloses the line. */
  kind: "function" | "class";
  /** Human label of the node type: `method`, `function`, `arrow function`, `closure`, `class`, `impl`. */
  label: string;
  /** The function's name (the class's name when kind is `class`); null for an anonymous function. */
  name: string | null;
  /** Tree-sitter node type of the scope (`function_definition`, `method_declaration`, …). */
  nodeType: string;
  /** Enclosing class, struct (Go receiver), impl or trait; null when there is none. */
  className: string | null;
  /** Label of the container: `class`, `impl`, `trait`, `interface`, `type` (Go receiver), … */
  classLabel: string | null;
  /** First line of the rendered range (decorators included). */
  startLine: number;
  endLine: number;
  /** Line of the scope's own header (`def f(…):`, `fn f(…)`), which a cut window keeps visible. */
  headerLine: number;
}

function endLineOf(n: Node): number {
  const end = n.endPosition;
  // A node ending at column 0 ends with the previous line's newline.
  return end.column === 0 && end.row > n.startPosition.row ? end.row : end.row + 1;
}

/** `class_definition` → `class`, `impl_item` → `impl`, `arrow_function` → `arrow function`. */
export function labelOf(nodeType: string): string {
  return nodeType
    .replace(/_(declaration|definition|item|expression)$/, "")
    .replace(/^func_literal$/, "function literal")
    .replace(/_/g, " ");
}

function ownName(n: Node, spec: GrammarSpec): string | null {
  const field = spec.nameFields[n.type] ?? "name";
  const named = n.childForFieldName(field);
  return named ? named.text : null;
}

function functionName(n: Node, spec: GrammarSpec): string | null {
  if (!spec.anonymous.includes(n.type)) return ownName(n, spec);
  const own = n.childForFieldName("name");
  if (own) return own.text;
  const parent = n.parent;
  const field = parent ? spec.nameFromParent[parent.type] : undefined;
  if (parent && field) {
    const target = parent.childForFieldName(field);
    // Only when the function is the assigned value, not the thing assigned to.
    if (target && target.id !== n.id && target.text.length <= 80) return target.text;
  }
  return null;
}

function receiverName(n: Node, spec: GrammarSpec): string | null {
  const field = spec.receivers[n.type];
  if (!field) return null;
  const recv = n.childForFieldName(field);
  const ident = recv?.descendantsOfType("type_identifier")[0];
  return ident ? ident.text : null;
}

/** Find the scope enclosing 1-based `line`; null when the line is at top level. */
export function findScope(root: Node, line: number, lineText: string, spec: GrammarSpec): Scope | null {
  const column = Math.max(0, lineText.search(/\S/));
  const start = root.descendantForPosition({ row: line - 1, column });
  if (start === null) return null;
  const functions: Node[] = [];
  for (let n: Node | null = start; n !== null; n = n.parent) {
    if (spec.functions.includes(n.type)) functions.push(n);
  }
  const fn = functions.find((f) => functionName(f, spec) !== null) ?? functions[0] ?? null;
  const classFrom = fn ?? start;
  let cls: Node | null = null;
  for (let n: Node | null = classFrom; n !== null; n = n.parent) {
    if (spec.classes.includes(n.type)) {
      cls = n;
      break;
    }
  }
  if (fn === null && cls === null) return null;

  if (fn === null) {
    const c = cls!;
    return {
      kind: "class",
      label: labelOf(c.type),
      name: ownName(c, spec),
      nodeType: c.type,
      className: ownName(c, spec),
      classLabel: labelOf(c.type),
      startLine: c.startPosition.row + 1,
      endLine: endLineOf(c),
      headerLine: c.startPosition.row + 1,
    };
  }
  const receiver = receiverName(fn, spec);
  const className = receiver ?? (cls ? ownName(cls, spec) : null);
  const classLabel = receiver ? "type" : cls ? labelOf(cls.type) : null;
  const wrapper = fn.parent && spec.wrappers.includes(fn.parent.type) ? fn.parent : fn;
  let label = labelOf(fn.type);
  if (label === "function" && className !== null) label = "method";
  return {
    kind: "function",
    label,
    name: functionName(fn, spec),
    nodeType: fn.type,
    className,
    classLabel,
    startLine: wrapper.startPosition.row + 1,
    endLine: endLineOf(fn),
    headerLine: fn.startPosition.row + 1,
  };
}
