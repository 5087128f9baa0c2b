import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type FakeAnthropic, type FakeStep, startFakeAnthropic } from "../../../tests/fakes/anthropic.ts";
import { makeTempRepo, type TempRepo } from "../../../tests/fakes/temp-repo.ts";
import { type ApiAgentOptions, runApiAgent } from "./api-client.ts";
import { isDisablingFailure } from "./failure.ts";

let fake: FakeAnthropic;
const repos: TempRepo[] = [];
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  for (const r of repos.splice(0)) r.remove();
});

function project(): TempRepo {
  const r = makeTempRepo({
    "train.py": "import yaml\ncfg = yaml.safe_load(open('train.yaml'))\nlr = cfg['learning_rate']\n",
    "train.yaml": "lr: 0.1\n",
    ".gitignore": "secret-data/\n",
  });
  r.write("secret-data/dump.txt", "learning_rate hidden\n");
  r.write("notes.txt", "untracked note mentions learning_rate\n");
  repos.push(r);
  return r;
}

function opts(over: Partial<ApiAgentOptions> = {}): ApiAgentOptions {
  return {
    baseUrl: fake.url,
    apiKey: "sk-test-key",
    model: "claude-test",
    maxSteps: 4,
    requestTimeoutMs: 10_000,
    ...over,
  };
}

function run(steps: FakeStep[]): number {
  fake.setScript(steps, "ACTION: none");
  return fake.requests.length;
}

const LOG = "epoch 1\nKeyError: 'learning_rate'\n";

/** The tool_result blocks the client sent in request `i` (after `from`). */
function toolResults(from: number, i: number): { content: string; is_error?: boolean }[] {
  const body = fake.requests[from + i]!.body as { messages: { role: string; content: unknown }[] };
  const last = body.messages[body.messages.length - 1]!;
  return (last.content as { type: string; content: string; is_error?: boolean }[]).filter(
    (b) => b.type === "tool_result",
  );
}

describe("runApiAgent (fake Messages API)", () => {
  test("tool rounds with read_file, grep and view_log_excerpt, then a parsed ACTION", async () => {
    const r = project();
    const from = run([
      {
        tool_uses: [
          { name: "read_file", input: { path: "train.py" } },
          { name: "view_log_excerpt", input: {} },
        ],
      },
      { tool_use: { name: "grep", input: { pattern: "learning_rate|lr:" } } },
      { text: "train.py reads learning_rate but train.yaml says lr.\n\nACTION: pause" },
    ]);
    const res = await runApiAgent({ prompt: "incident 7 prompt", root: r.dir, logExcerpt: LOG }, opts());
    expect(res.failure).toBeNull();
    expect(res.ok).toBe(true);
    expect(res.steps).toBe(2);
    expect(res.requests).toBe(3);
    expect(res.parsed?.action?.kind).toBe("pause");
    expect(res.toolCalls.map((c) => [c.name, c.isError])).toEqual([
      ["read_file", false],
      ["view_log_excerpt", false],
      ["grep", false],
    ]);
    const first = fake.requests[from]!;
    expect(first.path).toBe("/v1/messages");
    expect(first.headers["x-api-key"]).toBe("sk-test-key");
    expect(first.headers["anthropic-version"]).toBe("2023-06-01");
    const body = first.body as {
      model: string;
      stream?: boolean;
      messages: unknown[];
      tools: { name: string }[];
    };
    expect(body.model).toBe("claude-test");
    expect(body.stream).toBeUndefined();
    expect(body.messages).toEqual([{ role: "user", content: "incident 7 prompt" }]);
    expect(body.tools.map((t) => t.name)).toEqual(["read_file", "grep", "view_log_excerpt"]);
    const [file, log] = toolResults(from, 1);
    expect(file!.content).toContain("     3\tlr = cfg['learning_rate']");
    expect(log!.content).toBe(LOG);
    const grep = toolResults(from, 2)[0]!.content;
    expect(grep).toContain("train.py:3:lr = cfg['learning_rate']");
    expect(grep).toContain("train.yaml:1:lr: 0.1");
    expect(grep).toContain("notes.txt:1:");
    expect(grep).not.toContain("secret-data");
  });

  test("read_file refuses paths outside the root, symlink escapes and .git", async () => {
    const r = project();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-outside-"));
    fs.writeFileSync(path.join(outside, "secret.txt"), "top secret\n");
    fs.symlinkSync(path.join(outside, "secret.txt"), path.join(r.dir, "link.txt"));
    try {
      const from = run([
        {
          tool_uses: [
            { name: "read_file", input: { path: "../../../../etc/passwd" } },
            { name: "read_file", input: { path: "/etc/passwd" } },
            { name: "read_file", input: { path: "link.txt" } },
            { name: "read_file", input: { path: ".git/config" } },
            { name: "grep", input: { pattern: "x", path: ".." } },
            { name: "read_file", input: { path: path.join(r.dir, "train.yaml") } },
            { name: "write_file", input: { path: "x" } },
          ],
        },
        { text: "ACTION: abort" },
      ]);
      const res = await runApiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts());
      expect(res.parsed?.action?.kind).toBe("abort");
      const results = toolResults(from, 1);
      expect(results.map((t) => t.is_error === true)).toEqual([true, true, true, true, true, false, true]);
      for (const t of results.slice(0, 5)) expect(t.content).toContain("refused");
      expect(JSON.stringify(results)).not.toContain("top secret");
      expect(results[5]!.content).toContain("lr: 0.1");
      expect(results[6]!.content).toContain("unknown tool write_file");
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test("the step cap: after maxSteps rounds the request forbids tools and asks for the answer", async () => {
    const r = project();
    const from = run([
      { tool_use: { name: "view_log_excerpt", input: {} } },
      { tool_use: { name: "view_log_excerpt", input: {} } },
      { text: "Out of steps.\nACTION: restart" },
    ]);
    const res = await runApiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts({ maxSteps: 2 }));
    expect(res.steps).toBe(2);
    expect(res.parsed?.action?.kind).toBe("restart");
    const bodies = fake.requests
      .slice(from)
      .map((q) => q.body as { tool_choice?: unknown; messages: unknown[] });
    expect(bodies.map((b) => b.tool_choice)).toEqual([undefined, undefined, { type: "none" }]);
    expect(JSON.stringify(bodies[2]!.messages.at(-1))).toContain("That was your last tool step");
  });

  test("a model that keeps calling tools past the cap → max_turns failure", async () => {
    const r = project();
    run([
      { tool_use: { name: "view_log_excerpt", input: {} } },
      { tool_use: { name: "view_log_excerpt", input: {} } },
    ]);
    const res = await runApiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts({ maxSteps: 1 }));
    expect(res.ok).toBe(false);
    expect(res.failure?.kind).toBe("max_turns");
  });

  test("a reply without an ACTION block is a successful call with no valid action", async () => {
    const r = project();
    run([{ text: "I would restart it." }]);
    const res = await runApiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts());
    expect(res.ok).toBe(true);
    expect(res.parsed).toEqual({ action: null, none: false, problems: ["no ACTION line in the reply"] });
  });

  test("401 → auth, 403 → auth, 429 → quota, 529 → quota: disabling, one request each", async () => {
    const r = project();
    for (const [status, kind] of [
      [401, "auth"],
      [403, "auth"],
      [429, "quota"],
      [529, "quota"],
    ] as const) {
      const from = run([{ status, message: "nope" }]);
      const res = await runApiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts());
      expect(res.failure?.kind).toBe(kind);
      expect(res.failure?.status).toBe(status);
      expect(isDisablingFailure(res.failure!.kind)).toBe(true);
      expect(fake.requests.length - from).toBe(1);
    }
  });

  test("500 is retried once, then api_error (not disabling)", async () => {
    const r = project();
    const from = run([{ status: 500, message: "internal" }]);
    const res = await runApiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts());
    expect(res.failure?.kind).toBe("api_error");
    expect(res.failure?.message).toContain("500");
    expect(fake.requests.length - from).toBe(2);
    expect(res.requests).toBe(2);
  });

  test("a request that never answers → timeout; a base URL with a trailing slash works", async () => {
    const r = project();
    run([{ hang: true }]);
    const res = await runApiAgent(
      { prompt: "p", root: r.dir, logExcerpt: LOG },
      opts({ requestTimeoutMs: 500, baseUrl: `${fake.url}/` }),
    );
    expect(res.failure?.kind).toBe("timeout");
    expect(fake.requests.at(-1)!.path).toBe("/v1/messages");
  });

  test("the caller's signal aborts a hanging request", async () => {
    const r = project();
    run([{ hang: true }]);
    const ac = new AbortController();
    const p = runApiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts({ signal: ac.signal }));
    setTimeout(() => ac.abort(), 200);
    expect((await p).failure?.kind).toBe("aborted");
  });

  test("nothing listening → api_error after a retry", async () => {
    const r = project();
    const closed = await startFakeAnthropic();
    const url = closed.url;
    await closed.close();
    const res = await runApiAgent({ prompt: "p", root: r.dir, logExcerpt: LOG }, opts({ baseUrl: url }));
    expect(res.failure?.kind).toBe("api_error");
    expect(res.requests).toBe(2);
  });
});
