import { describe, expect, test } from "bun:test";
import {
  appendToSection,
  NONE_YET,
  parseFront,
  renderNote,
  replaceSection,
  sectionLines,
  setFront,
  wikilink,
} from "./note.ts";

const note = () =>
  renderNote({
    front: { updated: "t1", zeta: 1, id: "n1", kind: "run", created: "t0", tags: ["a", "b"], alpha: "x: y" },
    title: "Run n1",
    body: ["**Command:** `x`"],
    sections: [
      { heading: "Child runs", lines: [] },
      { heading: "Incidents", lines: ["- one"] },
    ],
  });

describe("notes", () => {
  test("frontmatter: envelope keys first, the rest sorted, values as JSON (valid YAML)", () => {
    expect(note()).toBe(
      [
        "---",
        'id: "n1"',
        'kind: "run"',
        'created: "t0"',
        'updated: "t1"',
        'tags: ["a","b"]',
        'alpha: "x: y"',
        "zeta: 1",
        "---",
        "",
        "# Run n1",
        "",
        "**Command:** `x`",
        "",
        "## Child runs",
        "",
        NONE_YET,
        "",
        "## Incidents",
        "",
        "- one",
        "",
      ].join("\n"),
    );
    expect(parseFront(note())).toEqual({
      id: "n1",
      kind: "run",
      created: "t0",
      updated: "t1",
      tags: ["a", "b"],
      alpha: "x: y",
      zeta: 1,
    });
  });

  test("setFront updates and adds keys, leaving the body alone", () => {
    const t = setFront(note(), { updated: "t2", status: "gave_up" });
    expect(parseFront(t)).toMatchObject({ updated: "t2", status: "gave_up", zeta: 1 });
    expect(t.slice(t.indexOf("# Run"))).toBe(note().slice(note().indexOf("# Run")));
    expect(setFront("no front", { a: 1 })).toBe("no front");
  });

  test("appendToSection replaces the placeholder, then appends after the last line, deduplicated", () => {
    let t = appendToSection(note(), "Child runs", "- c1");
    expect(sectionLines(t, "Child runs")).toEqual(["- c1"]);
    t = appendToSection(t, "Child runs", "- c2");
    t = appendToSection(t, "Child runs", "- c1");
    expect(sectionLines(t, "Child runs")).toEqual(["- c1", "- c2"]);
    expect(appendToSection(t, "Child runs", "- c1", false)).toContain("- c2\n- c1\n\n## Incidents");
    t = appendToSection(t, "Incidents", "- two");
    expect(t.endsWith("- one\n- two\n")).toBe(true);
    t = appendToSection(t, "Outcome", "- done");
    expect(sectionLines(t, "Outcome")).toEqual(["- done"]);
    expect(sectionLines(t, "Incidents")).toEqual(["- one", "- two"]);
  });

  test("text a person adds inside a section survives later appends", () => {
    let t = appendToSection(note(), "Child runs", "- c1");
    t = t.replace("- c1\n", "- c1\nMy own remark.\n");
    t = appendToSection(t, "Child runs", "- c2");
    expect(sectionLines(t, "Child runs")).toEqual(["- c1", "My own remark.", "- c2"]);
  });

  test("replaceSection swaps a section's body, or appends the section", () => {
    let t = replaceSection(note(), "Child runs", ["exit 1"]);
    expect(sectionLines(t, "Child runs")).toEqual(["exit 1"]);
    expect(sectionLines(t, "Incidents")).toEqual(["- one"]);
    t = replaceSection(t, "Incidents", []);
    expect(sectionLines(t, "Incidents")).toEqual([NONE_YET]);
    t = replaceSection(t, "Exit", ["x"]);
    expect(sectionLines(t, "Exit")).toEqual(["x"]);
    expect(sectionLines(t, "Nope")).toBeNull();
  });

  test("wikilinks by path, aliases cleaned of link syntax", () => {
    expect(wikilink("runs/abc")).toBe("[[runs/abc]]");
    expect(wikilink("runs/abc", "Run [1] | x")).toBe("[[runs/abc|Run -1- - x]]");
  });
});
