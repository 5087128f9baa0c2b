import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { HealerOutcome } from "../core/types.ts";
import { createRedactor } from "../redact/redactor.ts";
import { MemoryLogger } from "../util/logger.ts";
import { fingerprint } from "./fingerprint.ts";
import type { FrameRenderInput } from "./frames-section.ts";
import { readIncident, readIndex } from "./read.ts";
import type { IncidentRecord } from "./record.ts";
import { AFTER_FAILURE_MARKER, DETECTOR_CONTEXT_MARKER, FsIncidentStore, snapshotName } from "./store.ts";
import { exitDetection, newIncident, T0, tracebackDetection } from "./test-fixtures.ts";

let tmp: string;
let incidentsDir: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-incidents-"));
  incidentsDir = path.join(tmp, ".autosentry", "incidents");
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function store(extra: Partial<ConstructorParameters<typeof FsIncidentStore>[0]> = {}) {
  return new FsIncidentStore({ dir: incidentsDir, logger: new MemoryLogger(), now: () => T0, ...extra });
}

const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), "utf8");

function allFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).flatMap((e) => {
    if (!e.isFile()) return [];
    return [path.relative(dir, path.join(e.parentPath, e.name))];
  });
}

function ruleOutcome(): HealerOutcome {
  return {
    source: "rule",
    ruleName: "oom_halve_batch",
    detection: tracebackDetection(),
    action: {
      kind: "restart_with_env",
      set: { BATCH_SIZE: "half", MODE: "safe" },
      command: [],
      notify: true,
    },
  };
}

describe("FsIncidentStore.create", () => {
  test("writes the folder layout of inventory §4.9 for a traceback with frames", async () => {
    const s = store();
    const { id, dir } = await s.create(newIncident());
    expect(id).toBe("2026-03-04T05-06-07Z-error-traceback");
    expect(dir).toBe(path.join(incidentsDir, id));
    expect(allFiles(dir).sort()).toEqual([
      "detections.json",
      "frames/01-model-step.py.md",
      "frames/02-train.py.md",
      "incident.json",
      "log_excerpt.txt",
      "report.md",
      "state.json",
      "trace.txt",
    ]);
    expect(fs.statSync(path.join(dir, "fix")).isDirectory()).toBe(true);
    expect(fs.readdirSync(path.join(dir, "fix"))).toEqual([]);

    expect(read(dir, "trace.txt")).toBe(`${tracebackDetection().trace!.text}\n`);
    const excerpt = read(dir, "log_excerpt.txt").split("\n");
    expect(excerpt.slice(0, 2)).toEqual(["log line 1", "log line 2"]);
    expect(excerpt.slice(29)).toEqual([
      "log line 30",
      DETECTOR_CONTEXT_MARKER,
      "ctx line 1",
      "ctx line 2",
      "",
    ]);

    const frame1 = read(dir, "frames/01-model-step.py.md");
    expect(frame1.split("\n")[0]).toBe("# Frame 1 — `/work/proj/lib/model step.py:7` (python)");
    expect(frame1).toContain("**Function:** `Trainer.step`");
    expect(read(dir, "frames/02-train.py.md")).toStartWith("# Frame 2 — `/work/proj/train.py:40` (python)");

    expect(JSON.parse(read(dir, "state.json"))).toEqual({ pid: 4242, restarts: 3, user: { note: "hello" } });
    expect(read(dir, "state.json")).toContain('\n  "pid": 4242'); // pretty
    expect(JSON.parse(read(dir, "detections.json"))).toEqual([
      {
        detector: "traceback",
        detector_kind: "traceback",
        kind: "error",
        message: "ValueError: bad batch ``7``",
        exception_type: "ValueError",
        at: new Date(T0 - 500).toISOString(),
        generation: 2,
      },
      {
        detector: "exit_code",
        detector_kind: "exit_code",
        kind: "error",
        message: "process exited with code 1",
        exception_type: null,
        at: new Date(T0).toISOString(),
        generation: 2,
      },
    ]);
    const report = read(dir, "report.md");
    expect(report).toStartWith("# Incident — 2026-03-04 05:06:07 UTC — error / traceback\n");
    expect(report).toContain("**Resolution:** *(pending)*");

    expect(await s.list()).toEqual([
      {
        id,
        time: new Date(T0).toISOString(),
        kind: "error",
        detector: "traceback",
        message: "ValueError: bad batch ``7``",
        exception_type: "ValueError",
        fingerprint: fingerprint(tracebackDetection()),
        rule: null,
        action: null,
        source: null,
        generation: 2,
      },
    ]);
    const record = JSON.parse(read(dir, "incident.json")) as IncidentRecord;
    expect(record.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(record.frames).toEqual(["frames/01-model-step.py.md", "frames/02-train.py.md"]);
    expect(report).toContain("### Frame 1 — `/work/proj/lib/model step.py:7` (python)");
    expect(report).toContain(`**Seen before:** never (fingerprint \`${record.fingerprint}\`)`);
  });

  test("a detection without a trace gets no trace.txt and no frames", async () => {
    const det = exitDetection();
    const { id, dir } = await store().create(newIncident({ detection: det, related: [det] }));
    expect(id).toBe("2026-03-04T05-06-07Z-error-exit_code");
    expect(fs.existsSync(path.join(dir, "trace.txt"))).toBe(false);
    expect(fs.readdirSync(path.join(dir, "frames"))).toEqual([]);
    expect(read(dir, "report.md")).toContain("*(no stack trace)*");
  });

  test("same-second incidents get -0001, -0002 suffixes", async () => {
    const s = store();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await s.create(newIncident())).id);
    expect(ids).toEqual([
      "2026-03-04T05-06-07Z-error-traceback",
      "2026-03-04T05-06-07Z-error-traceback-0001",
      "2026-03-04T05-06-07Z-error-traceback-0002",
    ]);
    expect((await s.list()).map((e) => e.id)).toEqual(ids);
    expect((await s.list(2)).map((e) => e.id)).toEqual(ids.slice(1));
  });

  test("concurrent creates in the same second never share a folder", async () => {
    const s = store();
    const refs = await Promise.all(Array.from({ length: 8 }, () => s.create(newIncident())));
    expect(new Set(refs.map((r) => r.id)).size).toBe(8);
  });

  test("the slug replaces odd characters in the detector name", async () => {
    const det = tracebackDetection({ detector: "my det/ector!!", kind: "anomaly" });
    const { id } = await store().create(newIncident({ detection: det, related: [det] }));
    expect(id).toBe("2026-03-04T05-06-07Z-anomaly-my-det-ector");
  });

  test("copies config snapshots, disambiguates equal names and notes missing files", async () => {
    const proj = path.join(tmp, "proj");
    fs.mkdirSync(path.join(proj, "configs"), { recursive: true });
    fs.writeFileSync(path.join(proj, "run.yaml"), "lr: 1\n");
    fs.writeFileSync(path.join(proj, "train.yaml"), "epochs: 2\n");
    fs.writeFileSync(path.join(proj, "configs", "train.yaml"), "epochs: 3\n");
    fs.writeFileSync(path.join(proj, ".env"), "A=1\n");
    const snaps = [
      path.join(proj, "run.yaml"),
      path.join(proj, "train.yaml"),
      path.join(proj, "configs", "train.yaml"),
      path.join(proj, "gone.yaml"),
      path.join(proj, ".env"),
    ];
    const logger = new MemoryLogger();
    const { dir } = await store({ logger }).create(newIncident({ configSnapshots: snaps }));
    expect(fs.readdirSync(path.join(dir, "configs")).sort()).toEqual([
      ".env",
      "configs__train.yaml",
      "run.yaml",
      "train.yaml",
    ]);
    expect(read(dir, "configs/train.yaml")).toBe("epochs: 2\n");
    expect(read(dir, "configs/configs__train.yaml")).toBe("epochs: 3\n");
    const report = read(dir, "report.md");
    expect(report).toContain(`- \`${snaps[2]}\` — snapshot: \`configs/configs__train.yaml\``);
    expect(report).toContain(`- \`${snaps[3]}\` — not copied: missing at incident time`);
    expect(logger.lines.some((l) => l.startsWith("[WARN]") && l.includes("gone.yaml"))).toBe(true);
  });

  test("snapshotName falls back to a numeric suffix when every parent form is taken", () => {
    const taken = new Set(["a.yaml", "x__a.yaml"]);
    expect(snapshotName("/x/a.yaml", taken)).toBe("x__a.yaml.2");
  });

  test("the redactor is applied to every file written", async () => {
    const SECRET = "hunter2-s3cr3t";
    const cfg = path.join(tmp, "secret.env");
    fs.writeFileSync(cfg, `TOKEN=${SECRET}\n`);
    const det = tracebackDetection({
      message: `ValueError: token ${SECRET}`,
      context: [`ctx ${SECRET}`],
      trace: {
        language: "python",
        text: `Traceback\n  File "/p/${SECRET}.py", line 1, in f\nValueError: token ${SECRET}`,
        exceptions: [
          {
            type: "ValueError",
            message: `token ${SECRET}`,
            frames: [
              { file: `/p/${SECRET}.py`, line: 1, function: `f_${SECRET}`, raw: `File "/p/${SECRET}.py"` },
            ],
          },
        ],
      },
    });
    const s = store({ redact: (t) => t.replaceAll(SECRET, "[REDACTED]") });
    const { id, dir } = await s.create(
      newIncident({
        detection: det,
        related: [det],
        logExcerpt: [`line with ${SECRET}`],
        state: { user: { [`set_${SECRET}`]: SECRET } },
        process: { kind: "local", argv: ["run", `--key=${SECRET}`], cwd: "/p", pid: 1 },
        configSnapshots: [cfg],
      }),
    );
    await s.recordOutcome(id, {
      outcome: {
        source: "claude",
        detection: det,
        action: { kind: "custom_command", set: { K: SECRET }, command: ["fix", SECRET], notify: true },
        response: `I found ${SECRET}`,
        diff: `+ key = "${SECRET}"`,
        rationale: `because ${SECRET}`,
      },
      commandResult: { argv: ["fix", SECRET], exitCode: 0, timedOut: false, output: `echo ${SECRET}\n` },
      note: `note ${SECRET}`,
    });
    await s.appendAfterLines(id, [`after ${SECRET}`]);
    const files = allFiles(dir);
    expect(files.filter((f) => f.includes(SECRET))).toEqual([]);
    expect(files).toContain("fix/claude_response.md");
    expect(files).toContain("fix/diff.patch");
    expect(files).toContain("fix/command_output.txt");
    expect(files).toContain("configs/secret.env");
    for (const f of [...files, "../index.jsonl"]) {
      const text = read(dir, f);
      expect({ file: f, leaked: text.includes(SECRET) }).toEqual({ file: f, leaked: false });
    }
    expect(read(dir, "configs/secret.env")).toBe("TOKEN=[REDACTED]\n");
    // JSON files stay valid JSON after redaction.
    expect(JSON.parse(read(dir, "state.json"))).toEqual({ user: { "set_[REDACTED]": "[REDACTED]" } });
  });

  test("a redactor keyed on names sees a JSON string together with its key", async () => {
    const redact = (t: string) => t.replace(/(password:\s*)\S+/g, "$1[REDACTED]");
    const { dir } = await store({ redact }).create(
      newIncident({ state: { password: "pw123", other: "pw123" } }),
    );
    expect(JSON.parse(read(dir, "state.json"))).toEqual({ password: "[REDACTED]", other: "pw123" });
  });

  test("a JSON-aware redactor, when given, is used for the JSON files", async () => {
    const hide = (v: unknown, key = ""): unknown => {
      if (key === "token") return "[HIDDEN]";
      if (Array.isArray(v)) return v.map((x) => hide(x));
      if (v !== null && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hide(x, k)]));
      }
      return v;
    };
    const s = store({ redactJson: (v) => hide(v) });
    const { id, dir } = await s.create(newIncident({ state: { token: "abc", n: 1 } }));
    await s.recordOutcome(id, {
      outcome: {
        ...ruleOutcome(),
        action: { kind: "restart_with_env", set: { token: "t" }, command: [], notify: true },
      },
      resolvedEnv: { token: "t" },
    });
    expect(JSON.parse(read(dir, "state.json"))).toEqual({ token: "[HIDDEN]", n: 1 });
    expect(JSON.parse(read(dir, "fix/action.json")).set).toEqual({ token: "[HIDDEN]" });
    expect((JSON.parse(read(dir, "incident.json")) as IncidentRecord).outcome?.resolved_env).toEqual({
      token: "[HIDDEN]",
    });
  });
});

describe("FsIncidentStore: frames renderer, grouping, env, PEM windows", () => {
  test("a plugged-in renderer's files and section are written redacted; the report embeds the section", async () => {
    const SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    const inputs: FrameRenderInput[] = [];
    const s = store({
      redact: (t) => t.replaceAll(SECRET, "[REDACTED]"),
      maxFrames: 7,
      renderFrames: async (input) => {
        inputs.push(input);
        return {
          files: [
            { name: "01-app.py.md", content: `# Frame 1\n\ntoken = "${SECRET}"\n` },
            { name: "01-app.py.md", content: "# a clashing name\n" },
          ],
          section: `### Frame 1\n\n>>> token = "${SECRET}"\n`,
        };
      },
    });
    const { dir } = await s.create(newIncident());
    expect(inputs).toEqual([{ trace: tracebackDetection().trace, cwd: "/work/proj", maxFrames: 7 }]);
    expect(fs.readdirSync(path.join(dir, "frames")).sort()).toEqual(["01-app.py.md", "2-01-app.py.md"]);
    expect(read(dir, "frames/01-app.py.md")).toBe('# Frame 1\n\ntoken = "[REDACTED]"\n');
    const report = read(dir, "report.md");
    expect(report).toContain('## Source frames\n\n### Frame 1\n\n>>> token = "[REDACTED]"\n\n## Stack trace');
    expect(report).not.toContain(SECRET);
  });

  test("a renderer that throws leaves the listing and a warning", async () => {
    const logger = new MemoryLogger();
    const s = store({
      logger,
      renderFrames: async () => {
        throw new Error("grammar exploded");
      },
    });
    const { dir } = await s.create(newIncident());
    expect(fs.readdirSync(path.join(dir, "frames")).sort()).toEqual([
      "01-model-step.py.md",
      "02-train.py.md",
    ]);
    expect(logger.lines.join("\n")).toContain(
      "Cannot render the source frames: grammar exploded; listing them instead",
    );
  });

  test("incidents of the same failure share a fingerprint; the next one counts and links the earlier ones", async () => {
    let now = T0;
    const s = store({ now: () => now });
    const first = await s.create(newIncident());
    now += 60_000;
    const other = await s.create(newIncident({ detection: exitDetection(), related: [exitDetection()] }));
    now += 60_000;
    // Same failure from another checkout, another message value: the same fingerprint.
    const moved = tracebackDetection({ message: "ValueError: bad batch ``8``" });
    moved.trace!.exceptions[1]!.frames[0]!.file = "/elsewhere/lib/model step.py";
    moved.trace!.exceptions[1]!.frames[0]!.line = 9;
    const second = await s.create(newIncident({ detection: moved, related: [moved] }));
    await s.recordOutcome(second.id, { outcome: ruleOutcome(), resolvedEnv: { BATCH_SIZE: "4" } });
    now += 60_000;
    const third = await s.create(newIncident());

    const rec = (dir: string) => JSON.parse(read(dir, "incident.json")) as IncidentRecord;
    expect(rec(first.dir).seen_before.count).toBe(0);
    expect(rec(other.dir).seen_before.count).toBe(0);
    expect(rec(other.dir).fingerprint).not.toBe(rec(first.dir).fingerprint);
    expect(rec(second.dir).fingerprint).toBe(rec(first.dir).fingerprint);
    expect(rec(third.dir).seen_before).toEqual({
      count: 2,
      first_time: new Date(T0).toISOString(),
      last_time: new Date(T0 + 120_000).toISOString(),
      earlier: [
        { id: first.id, time: new Date(T0).toISOString(), resolution: null },
        {
          id: second.id,
          time: new Date(T0 + 120_000).toISOString(),
          resolution: "rule oom_halve_batch → restart_with_env",
        },
      ],
    });
    const report = read(third.dir, "report.md");
    expect(report).toContain(`- [${first.id}](../${first.id}/report.md)`);
    expect(report).toContain(`- [${second.id}](../${second.id}/report.md)`);
    // Every link resolves to the earlier report.
    for (const m of report.matchAll(/\]\((\.\.\/[^)]+)\)/g)) {
      expect(fs.existsSync(path.resolve(third.dir, m[1]!))).toBe(true);
    }
    expect(readIndex(incidentsDir).map((e) => e.fingerprint)).toEqual([
      rec(first.dir).fingerprint,
      rec(other.dir).fingerprint,
      rec(first.dir).fingerprint,
      rec(first.dir).fingerprint,
    ]);
  });

  test("the env overrides come from the config's process.env and state.json's env_overlay", async () => {
    const s = store({ processEnv: { BATCH_SIZE: "64", HF_TOKEN: "hf_abcdefghijklmnopqrstuvwxyz" } });
    const { dir } = await s.create(newIncident({ state: { env_overlay: { BATCH_SIZE: "32" } } }));
    const record = JSON.parse(read(dir, "incident.json")) as IncidentRecord;
    expect(record.env).toEqual({
      configured: { BATCH_SIZE: "64", HF_TOKEN: "hf_abcdefghijklmnopqrstuvwxyz" },
      overlay: { BATCH_SIZE: "32" },
    });
    expect(read(dir, "report.md")).toContain(
      "**Env overrides the child ran with** (set by restart_with_env): `BATCH_SIZE=32` (process.env: `64`)\n\n**Env from the config** (process.env): `BATCH_SIZE=64`, `HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz`",
    );
  });

  test("a PEM body whose BEGIN line fell out of the excerpt window is hidden; the tail is redacted as one text", async () => {
    const body = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "VJTUt9Us8cKjMzEfYyjiWA4R4"];
    const redact = (t: string) =>
      t.replace(/-----BEGIN PRIVATE KEY-----\n[\s\S]*?-----END PRIVATE KEY-----/g, "[PEM]");
    const s = store({ redact });
    const { id, dir } = await s.create(
      newIncident({
        logExcerpt: [
          ...body,
          "-----END PRIVATE KEY-----",
          "ok",
          "-----BEGIN PRIVATE KEY-----",
          ...body,
          "-----END PRIVATE KEY-----",
          "done",
        ],
      }),
    );
    await s.appendAfterLines(id, [body[1]!, "-----END RSA PRIVATE KEY-----"]);
    const excerpt = read(dir, "log_excerpt.txt");
    expect(excerpt).not.toContain(body[0]!);
    expect(excerpt).not.toContain(body[1]!);
    expect(excerpt).toStartWith("[REDACTED]\n-----END PRIVATE KEY-----\nok\n[PEM]\ndone\n");
    const record = JSON.parse(read(dir, "incident.json")) as IncidentRecord;
    expect(record.log_excerpt.tail).toEqual([
      "[REDACTED]",
      "-----END PRIVATE KEY-----",
      "ok",
      "[PEM]",
      "done",
    ]);
    expect(read(dir, "report.md")).not.toContain(body[1]!);
  });
});

describe("FsIncidentStore.recordOutcome", () => {
  test("records a rule's restart_with_env with the resolved values", async () => {
    const s = store();
    const { id, dir } = await s.create(newIncident());
    await s.recordOutcome(id, { outcome: ruleOutcome(), resolvedEnv: { BATCH_SIZE: "32", MODE: "safe" } });
    expect(JSON.parse(read(dir, "rule_match.json"))).toEqual({ rule: "oom_halve_batch", source: "rule" });
    expect(JSON.parse(read(dir, "fix/action.json"))).toEqual({
      kind: "restart_with_env",
      set: { BATCH_SIZE: "half", MODE: "safe" },
      command: [],
      notify: true,
    });
    const report = read(dir, "report.md");
    expect(report).toContain("**Resolution:** rule `oom_halve_batch` → restart_with_env");
    expect(report).toContain(
      "Rule `oom_halve_batch` matched. Restarted with overrides: `BATCH_SIZE=32` (from `half`), `MODE=safe`.",
    );
    expect(report).not.toContain("`BATCH_SIZE=half`");
    const record = JSON.parse(read(dir, "incident.json")) as IncidentRecord;
    expect(record.outcome?.resolved_env).toEqual({ BATCH_SIZE: "32", MODE: "safe" });

    // index.jsonl has two lines for the id; readers keep the last.
    const raw = read(incidentsDir, "index.jsonl").trim().split("\n");
    expect(raw.length).toBe(2);
    expect(await s.list()).toMatchObject([
      { id, rule: "oom_halve_batch", action: "restart_with_env", source: "rule" },
    ]);
  });

  test("custom_command writes its output; a later non-rule outcome removes rule_match.json", async () => {
    const s = store();
    const { id, dir } = await s.create(newIncident());
    await s.recordOutcome(id, { outcome: ruleOutcome(), resolvedEnv: { BATCH_SIZE: "32" } });
    await s.recordOutcome(id, {
      outcome: {
        source: "manual",
        detection: tracebackDetection(),
        action: {
          kind: "custom_command",
          set: {},
          command: ["sh", "-c", "echo hi"],
          timeout_seconds: 5,
          notify: false,
        },
      },
      commandResult: { argv: ["sh", "-c", "echo hi"], exitCode: null, timedOut: true, output: "hi\n" },
    });
    expect(fs.existsSync(path.join(dir, "rule_match.json"))).toBe(false);
    expect(read(dir, "fix/command_output.txt")).toBe(
      "$ sh -c 'echo hi'\nexit code: none\ntimed out: yes\n\nhi\n",
    );
    expect(JSON.parse(read(dir, "fix/action.json"))).toEqual({
      kind: "custom_command",
      set: {},
      command: ["sh", "-c", "echo hi"],
      timeout_seconds: 5,
      notify: false,
    });
    const report = read(dir, "report.md");
    expect(report).toContain("Ran `sh -c 'echo hi'`: timed out. Output in `fix/command_output.txt`.");
    expect((await s.list())[0]).toMatchObject({ rule: null, action: "custom_command", source: "manual" });
  });

  test("no outcome: the report says so and gives the note", async () => {
    const s = store();
    const { id, dir } = await s.create(newIncident());
    await s.recordOutcome(id, { outcome: null, note: "no rule matched and the agent is disabled" });
    expect(fs.existsSync(path.join(dir, "fix/action.json"))).toBe(false);
    const report = read(dir, "report.md");
    expect(report).toContain("**Resolution:** *(none)*");
    expect(report).toContain("*(no fix applied)*\n\nno rule matched and the agent is disabled");
  });

  test("an unknown or invalid id is refused", async () => {
    const s = store();
    await s.create(newIncident());
    await expect(s.recordOutcome("nope", { outcome: null })).rejects.toThrow(/no incident "nope"/);
    await expect(s.recordOutcome("../x", { outcome: null })).rejects.toThrow(/no incident/);
  });
});

describe("FsIncidentStore.appendAfterLines", () => {
  test("appends under one marker, also across store instances", async () => {
    const s = store();
    const { id, dir } = await s.create(newIncident({ logExcerpt: ["before"] }));
    await Promise.all([s.appendAfterLines(id, ["after 1"]), s.appendAfterLines(id, ["after 2"])]);
    await s.appendAfterLines(id, []);
    await store().appendAfterLines(id, ["after 3"]);
    expect(read(dir, "log_excerpt.txt")).toBe(
      [
        "before",
        DETECTOR_CONTEXT_MARKER,
        "ctx line 1",
        "ctx line 2",
        AFTER_FAILURE_MARKER,
        "after 1",
        "after 2",
        "after 3",
        "",
      ].join("\n"),
    );
  });
});

describe("index.jsonl", () => {
  test("merges by id, keeps open order, skips malformed lines and a torn last line", async () => {
    const s = store();
    const a = await s.create(newIncident());
    const b = await s.create(newIncident());
    await s.recordOutcome(a.id, { outcome: ruleOutcome(), resolvedEnv: { BATCH_SIZE: "4" } });
    const idx = path.join(incidentsDir, "index.jsonl");
    fs.appendFileSync(idx, 'not json\n[1,2]\n{"id": "../evil"}\n');
    fs.appendFileSync(idx, `{"id": "${b.id}", "rule": "torn`);
    const entries = await s.list();
    expect(entries.map((e) => e.id)).toEqual([a.id, b.id]);
    expect(entries[0]).toMatchObject({ rule: "oom_halve_batch" });
    expect(entries[1]).toMatchObject({ rule: null });
    expect(readIndex(path.join(tmp, "nowhere"))).toEqual([]);
  });
});

describe("readIncident", () => {
  test("reads a folder and refuses ids outside the incidents dir", async () => {
    const { id } = await store().create(newIncident());
    const got = readIncident(incidentsDir, id);
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.incident.report).toStartWith("# Incident — ");
    expect(got.incident.entry?.id).toBe(id);
    expect(got.incident.files).toContain("frames/01-model-step.py.md");

    fs.mkdirSync(path.join(tmp, "outside"));
    fs.writeFileSync(path.join(tmp, "outside", "report.md"), "secret");
    fs.symlinkSync(path.join(tmp, "outside"), path.join(incidentsDir, "link"));
    expect(readIncident(incidentsDir, "link")).toEqual({ ok: false, error: "not_found" });
    expect(readIncident(incidentsDir, "..")).toEqual({ ok: false, error: "invalid_id" });
    expect(readIncident(incidentsDir, "../outside")).toEqual({ ok: false, error: "invalid_id" });
    expect(readIncident(incidentsDir, "nope")).toEqual({ ok: false, error: "not_found" });
  });
});

describe("completeInterrupted (issue 16: a monitor killed while writing an incident)", () => {
  test("a folder without incident.json is completed from its detections; one missing from the index is indexed", async () => {
    const s = store();
    // Killed after detections.json, before incident.json.
    const half = path.join(incidentsDir, "2026-12-03T07-21-54Z-error-traceback");
    fs.mkdirSync(half, { recursive: true });
    fs.writeFileSync(
      path.join(half, "detections.json"),
      JSON.stringify([
        {
          detector: "traceback",
          detector_kind: "traceback",
          kind: "error",
          message: "RuntimeError: chaos failure",
          exception_type: "RuntimeError",
          at: "2026-12-03T07:21:54.100Z",
          generation: 3,
        },
      ]),
    );
    // Killed after incident.json, before the index line.
    const whole = await s.create(newIncident());
    fs.rmSync(path.join(incidentsDir, "index.jsonl"));
    const done = await store().completeInterrupted();
    expect(done.sort()).toEqual([path.basename(half), whole.id].sort());
    const rec = JSON.parse(read(half, "incident.json")) as IncidentRecord;
    expect(rec.message).toContain("RuntimeError: chaos failure");
    expect(rec.message).toContain("the monitor stopped while writing this incident");
    expect(rec.generation).toBe(3);
    expect(read(half, "report.md")).toContain("RuntimeError: chaos failure");
    expect(
      readIndex(incidentsDir)
        .map((e) => e.id)
        .sort(),
    ).toEqual([path.basename(half), whole.id].sort());
    // Nothing left to do the second time.
    expect(await store().completeInterrupted()).toEqual([]);
    expect(readIndex(incidentsDir)).toHaveLength(2);
  });
});

describe("FsIncidentStore with deferred durability (issue 13)", () => {
  test("the folder is complete when create() returns; every file, its directories and the index are handed over to be synced", async () => {
    const handed = new Set<string>();
    const s = store({ durability: { add: (f) => handed.add(f) } });
    const plainStore = await store().create(newIncident());
    const plainFiles = allFiles(plainStore.dir).sort();
    fs.rmSync(incidentsDir, { recursive: true, force: true });
    const { dir } = await s.create(newIncident());
    // The same layout as with fsync at every write.
    expect(allFiles(dir).sort()).toEqual(plainFiles);
    for (const f of allFiles(dir)) expect(handed.has(path.join(dir, f))).toBe(true);
    for (const d of [dir, path.join(dir, "frames"), path.join(dir, "fix"), incidentsDir])
      expect(handed.has(d)).toBe(true);
    expect(handed.has(path.join(incidentsDir, "index.jsonl"))).toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  test("the state is copied when create() is called: later changes do not reach state.json", async () => {
    const state = { phase: "running", restarts: 1 };
    const p = store({ durability: { add: () => {} } }).create({ ...newIncident(), state });
    state.restarts = 99;
    const { dir } = await p;
    expect(JSON.parse(read(dir, "state.json"))).toMatchObject({ restarts: 1 });
  });

  test("state.json with a restart history is the state redacted and printed whole, byte for byte, incident after incident", async () => {
    const redactor = createRedactor({ secretEnvs: [{ API_TOKEN: "tok-1234567890abcdef" }] });
    const s = store({
      redact: (t) => redactor.redact(t),
      redactJson: (v) => redactor.redactJson(v),
      redactVersion: () => redactor.learned(),
    });
    const entry = (i: number, reason: string) => ({
      time: `2026-01-01T00:00:0${i}.000Z`,
      reason,
      rule: null,
      new_pid: null as number | null,
      incident_id: `inc-${i}`,
      delay_seconds: 0,
    });
    const state = {
      phase: "running",
      restart_history: [entry(1, "exit 1 password=hunter2"), entry(2, "tok-1234567890abcdef leaked")],
      env_overlay: { A: "1" },
      token: "abc",
    };
    const whole = () =>
      `${JSON.stringify(redactor.redactJson(JSON.parse(JSON.stringify(state))), null, 2)}\n`;
    const first = await s.create({ ...newIncident(), state });
    expect(read(first.dir, "state.json")).toBe(whole());
    expect(read(first.dir, "state.json")).not.toContain("hunter2");
    // A record changes once more (its restart's pid) and is frozen (as launching.ts does), then
    // more are added.
    state.restart_history[1]!.new_pid = 77;
    Object.freeze(state.restart_history[1]);
    state.restart_history.push(entry(3, "restart policy after exit 1"));
    const second = await s.create({ ...newIncident(), state });
    expect(read(second.dir, "state.json")).toBe(whole());
    expect(JSON.parse(read(second.dir, "state.json")).restart_history[1].new_pid).toBe(77);
    state.restart_history[2]!.new_pid = 78;
    Object.freeze(state.restart_history[2]);
    const again = await s.create({ ...newIncident(), state });
    expect(read(again.dir, "state.json")).toBe(whole());
    expect(JSON.parse(read(again.dir, "state.json")).restart_history[2].new_pid).toBe(78);
    // A secret learned later is hidden in records printed before.
    redactor.learn({ MY_SECRET: "restart policy after exit 1" });
    const third = await s.create({ ...newIncident(), state });
    expect(read(third.dir, "state.json")).toBe(whole());
    expect(read(third.dir, "state.json")).not.toContain("restart policy after exit 1");
    // An empty history and no history at all print as before.
    for (const other of [{ ...state, restart_history: [] }, { phase: "x" }]) {
      const inc = await s.create({ ...newIncident(), state: other });
      expect(read(inc.dir, "state.json")).toBe(
        `${JSON.stringify(redactor.redactJson(JSON.parse(JSON.stringify(other))), null, 2)}\n`,
      );
    }
  });

  test("findByGeneration finds the incident of a child generation written since a time, or null", async () => {
    const s = store();
    const inc = newIncident();
    const { id, dir } = await s.create(inc);
    const gen = inc.detection.generation;
    expect(await s.findByGeneration(gen, T0 - 5000)).toEqual({ id, dir });
    expect(await s.findByGeneration(gen + 1, T0 - 5000)).toBeNull();
    // an incident of the same generation number from before that child started (an earlier run)
    expect(await s.findByGeneration(gen, T0 + 60_000)).toBeNull();
  });
});

describe("the next incident's folder, prepared ahead (issue 13: restart latency)", () => {
  const runDir = () => path.join(tmp, ".autosentry", "run");
  const spares = () =>
    (fs.existsSync(runDir()) ? fs.readdirSync(runDir()) : []).filter((n) => n.startsWith("+staging-"));
  const entries = () => fs.readdirSync(incidentsDir).sort();

  test("after an incident the next folder is prepared in the staging directory; the next incident takes it, complete; close() removes the spare", async () => {
    const s = store({ durability: { add: () => {} }, stagingDir: runDir() });
    const first = await s.create(newIncident());
    // Prepared in the background, outside the incidents directory.
    await Bun.sleep(50);
    expect(spares()).toHaveLength(1);
    expect(entries()).toEqual([first.id, "index.jsonl"]);
    const spare = path.join(runDir(), spares()[0]!);
    expect(fs.readdirSync(spare).sort()).toEqual([
      "detections.json",
      "fix",
      "frames",
      "incident.json",
      "log_excerpt.txt",
      "report.md",
      "state.json",
    ]);
    const second = await s.create(newIncident());
    // The spare became the second incident (moved whole), with the same layout as the first.
    expect(fs.existsSync(spare)).toBe(false);
    expect(allFiles(second.dir).sort()).toEqual(allFiles(first.dir).sort());
    expect(readIncident(incidentsDir, second.id)).toMatchObject({ ok: true });
    expect(JSON.parse(read(second.dir, "incident.json")).id).toBe(second.id);
    expect((await s.list()).map((e) => e.id)).toEqual([first.id, second.id]);
    await s.close();
    expect(spares()).toEqual([]);
    expect(entries()).toEqual([first.id, second.id, "index.jsonl"].sort());
  });

  test("while a folder is written (the first, with nothing prepared) it is staged in the staging directory, not among the incidents", async () => {
    let during: string[] = [];
    const s = store({
      stagingDir: runDir(),
      renderFrames: async () => {
        during = entries();
        return { files: [], section: "" };
      },
    });
    const first = await s.create(newIncident());
    expect(during.filter((n) => n.startsWith("+staging-"))).toEqual([]);
    expect(entries()).toEqual([first.id, "index.jsonl"]);
    await s.close();
  });

  test("without a staging directory nothing is prepared and nothing but incidents stays in the incidents directory", async () => {
    const s = store();
    const first = await s.create(newIncident());
    await Bun.sleep(50);
    expect(entries()).toEqual([first.id, "index.jsonl"]);
  });

  test("staging folders a killed monitor left are removed when the next one starts, never taken for an incident", async () => {
    await store().create(newIncident());
    // One of them with this process's pid: a monitor in a container has the same pid every time.
    const left = [
      path.join(incidentsDir, "+staging-999999-ab12cd-7"),
      path.join(runDir(), `+staging-${process.pid}-ab12cd-8`),
    ];
    for (const d of left) {
      fs.mkdirSync(path.join(d, "fix"), { recursive: true });
      fs.writeFileSync(path.join(d, "log_excerpt.txt"), "half written\n");
    }
    const s = store({ stagingDir: runDir() });
    expect(await s.completeInterrupted()).toEqual([]);
    for (const d of left) expect(fs.existsSync(d)).toBe(false);
    expect(await s.list()).toHaveLength(1);
  });

  test("a folder name taken by something else is skipped, not replaced", async () => {
    const s = store();
    const first = await s.create(newIncident());
    // The next same-second name exists already (made by hand, empty): rename would replace it.
    const taken = path.join(incidentsDir, `${first.id}-0001`);
    fs.mkdirSync(taken);
    const next = await store().create(newIncident());
    expect(next.id).toBe(`${first.id}-0002`);
    expect(fs.readdirSync(taken)).toEqual([]);
  });
});

describe("the outcome written with the folder (issue 13: one write of the folder per crash cycle)", () => {
  /** Every entry under `dir` (files with their bytes, folders as such), sorted. */
  function tree(dir: string): Array<[string, string]> {
    return fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .map((e): [string, string] => {
        const rel = path.relative(dir, path.join(e.parentPath, e.name));
        return [rel, e.isDirectory() ? "<dir>" : fs.readFileSync(path.join(dir, rel), "utf8")];
      })
      .sort((a, b) => a[0].localeCompare(b[0]));
  }

  test("a folder written with its outcome note is byte for byte the folder written, then completed by recordOutcome", async () => {
    const SECRET = "hunter2-s3cr3t";
    const note = `No rule matched; the restart policy decides (${SECRET})`;
    const cfg = path.join(tmp, "train.yaml");
    fs.writeFileSync(cfg, "lr: 1\n");
    const redact = (t: string) => t.replaceAll(SECRET, "[REDACTED]");
    const input = () =>
      newIncident({
        configSnapshots: [cfg],
        state: {
          pid: 4242,
          restart_history: [{ at: "2026-03-04T05:06:00.000Z", reason: `exit ${SECRET}`, generation: 1 }],
        },
        afterFailure: ["a line after"],
      });
    const make = (name: string) =>
      new FsIncidentStore({
        dir: path.join(tmp, name, "incidents"),
        logger: new MemoryLogger(),
        now: () => T0,
        redact,
        durability: { add: () => {} },
        stagingDir: path.join(tmp, name, "run"),
      });
    const before = make("old");
    const after = make("new");
    // Two incidents of the same failure each: the second links the first (seen_before, from the index).
    for (let i = 0; i < 2; i++) {
      const a = await before.create(input());
      await before.recordOutcome(a.id, { outcome: null, note });
      const b = await after.create({ ...input(), outcomeNote: note });
      expect(b.id).toBe(a.id);
      expect(tree(b.dir)).toEqual(tree(a.dir));
      const record = JSON.parse(read(b.dir, "incident.json")) as IncidentRecord;
      expect(record.outcome).toMatchObject({
        source: null,
        action: null,
        note: note.replace(SECRET, "[REDACTED]"),
      });
      expect(read(b.dir, "report.md")).toContain(
        `*(no fix applied)*\n\n${note.replace(SECRET, "[REDACTED]")}`,
      );
    }
    // The index: the old way a line at creation and an identical one with the outcome; now one.
    const index = (name: string) =>
      read(path.join(tmp, name, "incidents"), "index.jsonl")
        .trim()
        .split("\n");
    const old = index("old");
    expect(old).toHaveLength(4);
    expect(old[1]).toBe(old[0]!);
    expect(index("new")).toEqual([old[1]!, old[3]!]);
    expect(await after.list()).toEqual(await before.list());
    await before.close();
    await after.close();
  });
});
