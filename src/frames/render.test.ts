import { describe, expect, test } from "bun:test";
import { frameFileName, frameFiles, renderFrameFile, renderFramesSection, slug } from "./render.ts";
import type { ExplodedFrame } from "./types.ts";

function rendered(over: Partial<ExplodedFrame> = {}): ExplodedFrame {
  return {
    index: 0,
    frame: {
      file: "/w/train.py",
      line: 19,
      function: "_check",
      raw: 'File "/w/train.py", line 19, in _check',
    },
    displayPath: "train.py",
    path: "/w/train.py",
    language: "python",
    fence: "python",
    status: "rendered",
    reason: null,
    scope: {
      kind: "function",
      label: "method",
      name: "_check",
      nodeType: "function_definition",
      className: "Trainer",
      classLabel: "class",
      startLine: 17,
      endLine: 20,
      headerLine: 17,
    },
    fallback: null,
    source: {
      text: [
        "    17  def _check(self, batch):",
        "    18      if 'label' not in batch:",
        ">>> 19          raise KeyError('label')",
        "    20      return batch['label']",
      ].join("\n"),
      firstLine: 17,
      lastLine: 20,
      hiddenAbove: 0,
      hiddenBelow: 0,
    },
    git: null,
    ...over,
  };
}

function skipped(
  index: number,
  reason: string,
  file = `/w/.venv/lib/site-packages/torch/m${index}.py`,
): ExplodedFrame {
  return {
    ...rendered(),
    index,
    frame: { file, line: 10 + index, function: "f", raw: `File "${file}", line ${10 + index}, in f` },
    displayPath: file,
    path: null,
    status: "skipped",
    reason,
    scope: null,
    source: null,
  };
}

describe("renderFrameFile", () => {
  test("a rendered frame: where, trace line, fenced source", () => {
    expect(renderFrameFile(rendered())).toBe(
      [
        "# Frame 1 — `train.py:19` (python)",
        "",
        "**Where:** method `_check` of class `Trainer`, lines 17–20",
        '**Trace:** `File "/w/train.py", line 19, in _check`',
        "",
        "```python",
        "    17  def _check(self, batch):",
        "    18      if 'label' not in batch:",
        ">>> 19          raise KeyError('label')",
        "    20      return batch['label']",
        "```",
        "",
      ].join("\n"),
    );
  });

  test("git history, uncommitted changes and a cut window are stated", () => {
    const f = rendered({
      git: {
        dirty: true,
        commits: [
          { hash: "a1b2c3d", date: "2026-11-20", author: "Ada", subject: "Scale labels" },
          { hash: "e4f5a6b", date: "2026-11-01", author: "Bob", subject: "Add trainer" },
        ],
      },
      source: { ...rendered().source!, hiddenAbove: 12, hiddenBelow: 3 },
    });
    const out = renderFrameFile(f, 4);
    expect(out).toStartWith("# Frame 5 — `train.py:19` (python)\n");
    expect(out).toContain("lines 17–20; cut to the lines around the frame (15 not shown)");
    expect(out).toContain(
      "**Git:** **uncommitted changes**; last commits touching the file:\n- `a1b2c3d` 2026-11-20 Ada: Scale labels\n- `e4f5a6b` 2026-11-01 Bob: Add trainer",
    );
  });

  test("a plain-window frame says why there is no scope", () => {
    const f = rendered({ scope: null, fallback: "no grammar for .c files", language: null, fence: "c" });
    expect(renderFrameFile(f)).toContain(
      "(c)\n\n**Where:** lines 17–20 around the frame's line; no grammar for .c files",
    );
    expect(renderFrameFile(f)).toContain("```c\n");
  });

  test("a skipped frame gives the reason and the trace line; multi-line trace lines are fenced", () => {
    const s = skipped(2, "Rust standard library");
    s.frame.raw = "1: core::panicking::panic_fmt\n      at /rustc/abc/library/core/src/panicking.rs:80:14";
    expect(renderFrameFile(s)).toBe(
      [
        `# Frame 3 — \`${s.displayPath}:12\` (python)`,
        "",
        "*Skipped: Rust standard library*",
        "",
        "**Trace:**",
        "",
        "```text",
        s.frame.raw,
        "```",
        "",
      ].join("\n"),
    );
  });

  test("the fence is longer than any backtick run in the source; inline code survives backticks", () => {
    const src = rendered().source!;
    const f = rendered({
      frame: { ...rendered().frame, raw: "at `weird` (x.js:1)" },
      source: { ...src, text: '>>> 1  s = """```python\n    2  ````"""' },
    });
    const out = renderFrameFile(f);
    expect(out).toContain('`````python\n>>> 1  s = """```python\n    2  ````"""\n`````');
    expect(out).toContain("**Trace:** ``at `weird` (x.js:1)``");
  });
});

describe("names", () => {
  test("slug keeps [A-Za-z0-9._-] of the basename", () => {
    expect(slug("/w/src/train.py")).toBe("train.py");
    expect(slug("C:\\x\\My File (1).ts")).toBe("My-File-1-.ts");
    expect(slug("node:internal/modules/esm/module_job")).toBe("module_job");
    expect(slug("<frozen importlib._bootstrap>")).toBe("frozen-importlib._bootstrap");
    expect(slug("///")).toBe("frame");
    expect(slug(`${"a".repeat(100)}.py`)).toHaveLength(60);
  });

  test("frame file names are numbered from 1 and padded", () => {
    expect(frameFileName(rendered())).toBe("01-train.py.md");
    expect(frameFileName(rendered(), 11)).toBe("12-train.py.md");
    expect(frameFileName(rendered(), 4, 3)).toBe("005-train.py.md");
  });

  test("frameFiles writes rendered and skipped frames, not omitted ones, padded to the count", () => {
    const frames = [
      rendered(),
      skipped(1, "library"),
      { ...skipped(2, "max_frames (1) reached"), status: "omitted" as const },
    ];
    expect(frameFiles(frames).map((f) => f.name)).toEqual(["01-train.py.md", "02-m1.py.md"]);
    const many = Array.from({ length: 120 }, (_, i) => skipped(i, "library"));
    expect(frameFiles(many)[0]!.name).toBe("001-m0.py.md");
  });
});

describe("renderFramesSection", () => {
  test("no frames", () => {
    expect(renderFramesSection([])).toBe("*(no stack frames)*\n");
  });

  test("summary, rendered frames in full, skipped frames as lines, omitted frames summarised", () => {
    const frames: ExplodedFrame[] = [
      rendered(),
      skipped(1, 'library or vendored path (matches "site-packages/")'),
      rendered({ index: 2 }),
      { ...skipped(3, "max_frames (2) reached"), status: "omitted" },
      { ...skipped(4, "max_frames (2) reached"), status: "omitted" },
    ];
    const out = renderFramesSection(frames);
    expect(out).toStartWith(
      "Frames of the final exception, innermost first: 2 rendered, 1 skipped, 2 not rendered.\n\n",
    );
    expect(out).toContain("### Frame 1 — `train.py:19` (python)\n\n**Where:** method `_check`");
    expect(out).toContain("### Frame 3 — `train.py:19` (python)");
    expect(out).toContain(
      '- Frame 2 — `/w/.venv/lib/site-packages/torch/m1.py:11` — skipped: library or vendored path (matches "site-packages/")',
    );
    expect(out).toEndWith("- Frames 4–5 not rendered: max_frames (2) reached\n");
  });

  test("a long run of frames skipped for the same reason is shortened", () => {
    const frames = [
      rendered(),
      ...Array.from({ length: 40 }, (_, i) => skipped(i + 1, "library")),
      skipped(41, "Node.js internal module"),
    ];
    const lines = renderFramesSection(frames)
      .split("\n")
      .filter((l) => l.startsWith("- "));
    expect(lines).toEqual([
      "- Frame 2 — `/w/.venv/lib/site-packages/torch/m1.py:11` — skipped: library",
      "- Frame 3 — `/w/.venv/lib/site-packages/torch/m2.py:12` — skipped: library",
      "- … 37 more frames skipped for the same reason …",
      "- Frame 41 — `/w/.venv/lib/site-packages/torch/m40.py:50` — skipped: library",
      "- Frame 42 — `/w/.venv/lib/site-packages/torch/m41.py:51` — skipped: Node.js internal module",
    ]);
  });

  test("is pure: the same frames give the same text", () => {
    const frames = [rendered(), skipped(1, "library")];
    expect(renderFramesSection(frames)).toBe(renderFramesSection(structuredClone(frames)));
  });
});
