import { describe, expect, test } from "bun:test";
import { code, fenced } from "./markdown.ts";
import type { IncidentRecord, OutcomeSummary } from "./record.ts";
import { renderReport } from "./report.ts";
import { pythonTrace, T0 } from "./test-fixtures.ts";

function record(over: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    schema_version: 1,
    id: "2026-03-04T05-06-07Z-error-traceback",
    time: new Date(T0).toISOString(),
    kind: "error",
    detector: "traceback",
    detector_kind: "traceback",
    message: "ValueError: bad batch ``7``",
    exception_type: "ValueError",
    fingerprint: "0123456789abcdef",
    meta: {},
    generation: 1,
    process: { kind: "local", argv: ["python", "train.py", "--name", "my run"], cwd: "/p", pid: 99 },
    restarts: 2,
    max_restarts: 0,
    env: { configured: {}, overlay: {} },
    seen_before: { count: 0, first_time: null, last_time: null, earlier: [] },
    trace: pythonTrace(),
    frames: ["frames/01-x.py.md", "frames/02-y.py.md"],
    frames_section:
      "### Frame 1 — `x.py:3` (python)\n\n**Function:** `f`\n\n### Frame 2 — `y.py:9` (python)\n\n**Function:** `g`\n",
    related: [
      {
        detector: "traceback",
        detector_kind: "traceback",
        kind: "error",
        message: "ValueError: bad batch ``7``",
        exception_type: "ValueError",
        at: new Date(T0).toISOString(),
        generation: 1,
      },
    ],
    configs: [],
    log_excerpt: { lines: 30, tail: Array.from({ length: 20 }, (_, i) => `line ${i + 11}`) },
    outcome: null,
    ...over,
  };
}

function outcome(over: Partial<OutcomeSummary> = {}): OutcomeSummary {
  return {
    recorded_at: new Date(T0 + 1000).toISOString(),
    source: "rule",
    rule: "oom_halve_batch",
    action: { kind: "restart_with_env", set: { BATCH_SIZE: "half" }, command: [], notify: true },
    answered_detector: "traceback",
    rationale: null,
    has_response: false,
    has_diff: false,
    resolved_env: { BATCH_SIZE: "32" },
    command: null,
    note: null,
    ...over,
  };
}

/** The `## ` headings in order. */
const headings = (md: string) => md.split("\n").filter((l) => l.startsWith("## "));

/** The text of section `name` (up to the next `## `). */
function section(md: string, name: string): string {
  const start = md.indexOf(`\n## ${name}\n`);
  expect(start).toBeGreaterThan(-1);
  const rest = md.slice(start + name.length + 5);
  const end = rest.search(/\n## /);
  return (end === -1 ? rest : rest.slice(0, end)).trim();
}

describe("renderReport", () => {
  test("header lines and sections in the order of inventory §4.9", () => {
    const md = renderReport(record());
    expect(md.split("\n").slice(0, 9)).toEqual([
      "# Incident — 2026-03-04 05:06:07 UTC — error / traceback",
      "",
      "**Process:** local · `python train.py --name 'my run'`  ",
      "**PID:** 99  ",
      "**Restart #:** 2/∞  ",
      "**Detector:** `traceback` (traceback)  ",
      "**Resolution:** *(pending)*",
      "",
      "---",
    ]);
    expect(headings(md)).toEqual([
      "## Summary",
      "## Source frames",
      "## Stack trace",
      "## Configs at incident",
      "## State at incident",
      "## Log excerpt",
      "## Fix applied",
    ]);
    expect(section(md, "State at incident")).toBe(
      "See `state.json`.\n\n**Env overrides the child ran with** (set by restart_with_env): *(none)*",
    );
    expect(section(md, "Source frames")).toBe(
      "### Frame 1 — `x.py:3` (python)\n\n**Function:** `f`\n\n### Frame 2 — `y.py:9` (python)\n\n**Function:** `g`",
    );
    expect(section(md, "Fix applied")).toBe("*(pending — no outcome recorded yet)*");
    expect(renderReport(record())).toBe(md);
  });

  test("a finite cap and a missing pid", () => {
    const md = renderReport(
      record({ max_restarts: 50, process: { kind: "slurm", argv: ["sbatch", "j.sh"], cwd: "/", pid: null } }),
    );
    expect(md).toContain("**Restart #:** 2/50  ");
    expect(md).toContain("**PID:** —  ");
    expect(md).toContain("**Process:** slurm · `sbatch j.sh`");
  });

  test("the summary puts the final error first and names the first error of a chain", () => {
    const s = section(renderReport(record()), "Summary");
    expect(s.split("\n")).toEqual([
      "**Error:** ``` ValueError: bad batch ``7`` ``` (the final error, which ended the program)",
      "",
      "**First error:** `KeyError: 'batch'` (the first of 2 chained exceptions)",
      "",
      "**Seen before:** never (fingerprint `0123456789abcdef`)",
    ]);
  });

  test("a single exception and a multi-line message", () => {
    const trace = {
      ...pythonTrace(),
      exceptions: [{ type: "RuntimeError", message: "line one\nline two", frames: [] }],
    };
    const s = section(renderReport(record({ trace, message: "RuntimeError: line one" })), "Summary");
    expect(s).toBe(
      "**Error:**\n\n```\nRuntimeError: line one\nline two\n```\n\n**Detector message:** `RuntimeError: line one`\n\n**Seen before:** never (fingerprint `0123456789abcdef`)",
    );
  });

  test("without a trace the summary is the detection message", () => {
    const md = renderReport(
      record({ trace: null, frames: [], frames_section: "", message: "loss is NaN at step 12" }),
    );
    expect(section(md, "Summary")).toBe(
      "**Message:** `loss is NaN at step 12`\n\n**Seen before:** never (fingerprint `0123456789abcdef`)",
    );
    expect(section(md, "Stack trace")).toBe("*(no stack trace)*");
    expect(section(md, "Source frames")).toBe("*(no stack frames)*");
  });

  test("the stack trace fence is longer than any backtick run in the trace", () => {
    const trace = { ...pythonTrace(), text: "a ``` b\n```` c" };
    const s = section(renderReport(record({ trace })), "Stack trace");
    expect(s).toBe("`````\na ``` b\n```` c\n`````");
    expect(fenced("plain")).toBe("```\nplain\n```");
  });

  test("related detections only when there is more than one", () => {
    expect(headings(renderReport(record()))).not.toContain("## Related detections");
    const r = record();
    r.related.push({
      ...r.related[0]!,
      detector: "exit_code",
      detector_kind: "exit_code",
      message: "exited 1",
    });
    const s = section(renderReport(r), "Related detections");
    expect(s.split("\n")).toEqual([
      "- 05:06:07 `traceback` (traceback, error) — ValueError: bad batch ``7``",
      "- 05:06:07 `exit_code` (exit_code, error) — exited 1",
    ]);
  });

  test("configs list snapshots and notes", () => {
    const md = renderReport(
      record({
        configs: [
          { source: "/p/run.yaml", snapshot: "configs/run.yaml" },
          { source: "/p/gone.yaml", snapshot: null, note: "missing at incident time" },
        ],
      }),
    );
    expect(section(md, "Configs at incident")).toBe(
      "- `/p/run.yaml` — snapshot: `configs/run.yaml`\n- `/p/gone.yaml` — not copied: missing at incident time",
    );
    expect(section(renderReport(record()), "Configs at incident")).toBe("*(no config_snapshots configured)*");
  });

  test("the log excerpt section points at the file and quotes the tail", () => {
    const s = section(renderReport(record()), "Log excerpt");
    expect(s).toStartWith("See `log_excerpt.txt`: 30 line(s) before the failure");
    expect(s).toEndWith(
      `Last 20 line(s) before the failure:\n\n${fenced(record().log_excerpt.tail.join("\n"))}`,
    );
  });

  test("a rule's restart_with_env shows the resolved values, never the literal half", () => {
    const md = renderReport(record({ outcome: outcome() }));
    expect(md).toContain("**Resolution:** rule `oom_halve_batch` → restart_with_env\n");
    expect(section(md, "Fix applied")).toBe(
      "Rule `oom_halve_batch` matched. Restarted with overrides: `BATCH_SIZE=32` (from `half`).",
    );
  });

  test("other actions and sources", () => {
    const restart = outcome({
      action: { kind: "restart", set: {}, command: [], notify: true },
      resolved_env: null,
    });
    expect(section(renderReport(record({ outcome: restart })), "Fix applied")).toBe(
      "Rule `oom_halve_batch` matched. Applied action `restart`.",
    );

    const claude = outcome({
      source: "claude",
      rule: null,
      action: { kind: "restart", set: {}, command: [], notify: true },
      resolved_env: null,
      has_response: true,
      has_diff: true,
      rationale: "fixed the off-by-one",
    });
    const md = renderReport(record({ outcome: claude }));
    expect(md).toContain("**Resolution:** claude → restart\n");
    expect(section(md, "Fix applied")).toBe(
      [
        "Claude was invoked. Applied action `restart`.",
        "",
        "See `fix/claude_response.md` for the agent's reply.",
        "",
        "File edits captured in `fix/diff.patch`.",
      ].join("\n"),
    );
    expect(section(md, "Summary")).toContain("**Rationale:** fixed the off-by-one");

    const cmd = outcome({
      action: { kind: "custom_command", set: {}, command: ["./fix.sh"], notify: true },
      resolved_env: null,
      command: { argv: ["./fix.sh"], exit_code: 3, timed_out: false },
      answered_detector: "exit_code",
    });
    expect(section(renderReport(record({ outcome: cmd })), "Fix applied")).toBe(
      [
        "Rule `oom_halve_batch` matched. Ran `./fix.sh`: exit code 3. Output in `fix/command_output.txt`.",
        "",
        "It answered the `exit_code` detection of this failure (the incident is filed under `traceback`).",
      ].join("\n"),
    );

    const none = outcome({
      source: null,
      rule: null,
      action: null,
      resolved_env: null,
      note: "budget exhausted",
    });
    const mdNone = renderReport(record({ outcome: none }));
    expect(mdNone).toContain("**Resolution:** *(none)*\n");
    expect(section(mdNone, "Fix applied")).toBe("*(no fix applied)*\n\nbudget exhausted");
  });

  test("restart_with_env that could not be applied says so", () => {
    const failed = outcome({ resolved_env: null, note: "BATCH_SIZE has no numeric base" });
    expect(section(renderReport(record({ outcome: failed })), "Fix applied")).toBe(
      "Rule `oom_halve_batch` matched. Requested overrides `BATCH_SIZE=half` were not applied.\n\nNote: BATCH_SIZE has no numeric base",
    );
  });
});

describe("renderReport: fingerprint, detector data, env", () => {
  test("a failure seen before links the earlier reports: the first one, an ellipsis, the newest", () => {
    const md = renderReport(
      record({
        seen_before: {
          count: 12,
          first_time: "2026-03-01T00:00:00.000Z",
          last_time: "2026-03-04T05:00:00.000Z",
          earlier: [
            {
              id: "2026-03-01T00-00-00Z-error-traceback",
              time: "2026-03-01T00:00:00.000Z",
              resolution: null,
            },
            {
              id: "2026-03-04T05-00-00Z-error-traceback",
              time: "2026-03-04T05:00:00.000Z",
              resolution: "rule fix → restart",
            },
          ],
        },
      }),
    );
    expect(section(md, "Summary")).toContain(
      "**Seen before:** 12 times (first 2026-03-01 00:00:00 UTC, last 2026-03-04 05:00:00 UTC; fingerprint `0123456789abcdef`), see below",
    );
    expect(headings(md).slice(0, 3)).toEqual([
      "## Summary",
      "## Earlier incidents of this failure",
      "## Source frames",
    ]);
    expect(section(md, "Earlier incidents of this failure").split("\n")).toEqual([
      "The same failure (fingerprint `0123456789abcdef`) was recorded 12 times before in this incidents directory.",
      "",
      "- [2026-03-01T00-00-00Z-error-traceback](../2026-03-01T00-00-00Z-error-traceback/report.md) — 2026-03-01 00:00:00 UTC",
      "- … 10 more …",
      "- [2026-03-04T05-00-00Z-error-traceback](../2026-03-04T05-00-00Z-error-traceback/report.md) — 2026-03-04 05:00:00 UTC — rule fix → restart",
    ]);
  });

  test("seen once: one link, no ellipsis", () => {
    const t = "2026-03-01T00:00:00.000Z";
    const md = renderReport(
      record({
        seen_before: {
          count: 1,
          first_time: t,
          last_time: t,
          earlier: [{ id: "a", time: t, resolution: null }],
        },
      }),
    );
    expect(section(md, "Summary")).toContain("**Seen before:** once (at 2026-03-01 00:00:00 UTC;");
    expect(section(md, "Earlier incidents of this failure")).toEndWith(
      "- [a](../a/report.md) — 2026-03-01 00:00:00 UTC",
    );
  });

  test("the detector's data and the env overrides the child ran with", () => {
    const md = renderReport(
      record({
        meta: { metric: "step", last_value: 120, stalled: true, code: null },
        env: { configured: { BATCH_SIZE: "64", MODE: "fast" }, overlay: { BATCH_SIZE: "32" } },
      }),
    );
    expect(section(md, "Summary")).toContain(
      "**Detector data:** `metric=step`, `last_value=120`, `stalled=true`",
    );
    expect(section(md, "State at incident")).toBe(
      "See `state.json`.\n\n**Env overrides the child ran with** (set by restart_with_env): `BATCH_SIZE=32` (process.env: `64`)\n\n**Env from the config** (process.env): `BATCH_SIZE=64`, `MODE=fast`",
    );
  });
});

describe("markdown helpers", () => {
  test("code spans survive backticks and newlines", () => {
    expect(code("a`b")).toBe("``a`b``");
    expect(code("`x`")).toBe("`` `x` ``");
    expect(code("a\nb")).toBe("`a b`");
  });
});

describe("report.md leads with where to look and the known failure (issue 12)", () => {
  test("project frame and signature first in the summary, not repeated in the detector data", () => {
    const md = renderReport(
      record({
        meta: {
          lang: "python",
          project_frame: "/srv/llm/blocks.py:66 in forward",
          signature_name: "cuda_oom",
          signature_kind: "oom",
          explanation: "GPU memory ran out: lower the batch size",
        },
      }),
    );
    const s = section(md, "Summary");
    const lines = s.split("\n").filter((l) => l !== "");
    expect(lines[0]).toBe(
      "**Where to look:** `/srv/llm/blocks.py:66 in forward` (the innermost frame of the project's own code)",
    );
    expect(lines[1]).toBe("**Known failure:** `cuda_oom` (oom) — GPU memory ran out: lower the batch size");
    expect(s).toContain("**Detector data:** `lang=python`");
    expect(s).not.toContain("project_frame=");
  });

  test("an exit without a signature says what its code means", () => {
    const s = section(
      renderReport(record({ meta: { exit_code: 137, exit_meaning: "SIGKILL: killed outright" } })),
      "Summary",
    );
    expect(s.split("\n")[0]).toBe("**Meaning:** SIGKILL: killed outright");
  });
});
