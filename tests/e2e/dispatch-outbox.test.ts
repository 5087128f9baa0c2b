/**
 * End-to-end: the chat outbox is rotated by size by the monitor (`outbox_max_bytes`,
 * `outbox_backups`) and `dispatcher run` delivers every line of every file once; `dispatcher
 * pending` lists a given-up message and `dispatcher retry` sends it again (through a loopback
 * server speaking Discord's webhook API).
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeProject, run, testEnv } from "./helpers.ts";

const outboxFiles = (dir: string) =>
  fs
    .readdirSync(path.join(dir, ".autosentry"))
    .filter((n) => n.startsWith("slack_outbox.jsonl"))
    .map((n) => path.join(dir, ".autosentry", n));

test("the monitor rotates the outbox by size; the dispatcher delivers every line of every file once", async () => {
  const dir = makeProject(
    { "job.sh": "echo 'RuntimeError: boom' >&2\nexit 1\n" },
    `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0, max_restarts: 8 }
detectors:
  - { name: boom, kind: pattern, regex: "RuntimeError" }
notifiers:
  - { kind: slack_outbox, channel: C1, outbox_max_bytes: 1KB, outbox_backups: 20, fold_window_seconds: 0 }
`,
  );
  const r = await run(["run"], { cwd: dir });
  expect(r.code).toBe(1);
  const files = outboxFiles(dir);
  expect(files.length).toBeGreaterThan(2);
  const lines = files.flatMap((f) => fs.readFileSync(f, "utf8").trimEnd().split("\n"));
  const ids = lines.map((l) => JSON.parse(l).id as string);
  for (const f of files) expect(fs.statSync(f).size).toBeLessThan(1024 + 2048);
  const d = await run(["dispatcher", "run", "--once", "--backend", "stdout"], { cwd: dir });
  expect(d.code).toBe(0);
  const printed = d.stdout.split("\n").filter((l) => l.startsWith("[C1"));
  expect(printed).toHaveLength(ids.length);
  // a second pass sends nothing again
  const again = await run(["dispatcher", "run", "--once", "--backend", "stdout"], { cwd: dir });
  expect(again.stdout.split("\n").filter((l) => l.startsWith("[C1"))).toHaveLength(0);
  const pending = await run(["dispatcher", "pending", "--backend", "stdout"], { cwd: dir });
  expect(pending.stdout).toStartWith("nothing pending in ");
}, 120_000);

test("dispatcher retry sends a given-up message again; an id that was not given up is a usage error", async () => {
  const dir = makeProject(
    {},
    `process:
  command: [sh, -c, "true"]
notifiers:
  - { kind: discord_outbox, channel: "9" }
`,
  );
  // What a dispatcher that gave up on the first message left behind: the outbox and its ledger.
  const outbox = path.join(dir, ".autosentry", "discord_outbox.jsonl");
  const line = (id: string, title: string) =>
    `${JSON.stringify({ id, channel: "9", thread_key: null, kind: "anomaly", title, body: "", incident_id: null, sent: false })}\n`;
  const first = line("1790000000.000001", "the message the service refused");
  fs.writeFileSync(outbox, first + line("1790000000.000002", "the next one"));
  const posted: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { content?: string };
      posted.push(String(body.content ?? "").split("\n")[0] ?? "");
      return Response.json({ id: String(5000 + posted.length), channel_id: "9" });
    },
  });
  try {
    const env = testEnv({ DISCORD_WEBHOOK_URL: `http://127.0.0.1:${server.port}/api/webhooks/1/x` });
    const ledger = path.join(dir, ".autosentry", "dispatch", "discord_outbox.discord_webhook.ledger.jsonl");
    fs.mkdirSync(path.dirname(ledger), { recursive: true });
    fs.writeFileSync(
      ledger,
      [
        { t: "intent", k: "o0", at: 1 },
        {
          t: "fail",
          k: "o0",
          n: 5,
          err: "discord webhook: HTTP 400 Invalid Form Body",
          amb: false,
          next: 0,
          dead: true,
        },
        { t: "intent", k: `o${first.length}`, at: 2 },
        { t: "sent", k: `o${first.length}`, id: "4000" },
        { t: "cursor", off: fs.statSync(outbox).size },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n")
        .concat("\n"),
    );
    const pending = await run(["dispatcher", "pending"], { cwd: dir, env });
    expect(pending.stdout).toContain("1790000000.000001  [anomaly]");
    expect(pending.stdout).toContain("GAVE UP: discord webhook: HTTP 400 Invalid Form Body");
    expect(pending.stdout).toContain("`autosentry dispatcher retry` sends the 1 given up again");

    const wrong = await run(["dispatcher", "retry", "1790000000.000002"], { cwd: dir, env });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("not given up in");
    expect(wrong.stderr).toContain("1790000000.000002");
    expect(wrong.stderr).not.toContain("    at ");

    const retry = await run(["dispatcher", "retry"], { cwd: dir, env });
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain("1 given-up message(s) queued again");
    expect(retry.stdout).toContain("`autosentry dispatcher run`");
    const d = await run(["dispatcher", "run", "--once"], { cwd: dir, env });
    expect(d.code).toBe(0);
    expect(posted).toHaveLength(1);
    expect(posted[0]).toContain("the message the service refused");
    const after = await run(["dispatcher", "pending", "--json"], { cwd: dir, env });
    expect(JSON.parse(after.stdout).pending).toEqual([]);
    const none = await run(["dispatcher", "retry"], { cwd: dir, env });
    expect(none.stdout).toStartWith("nothing given up in ");
    // and a later pass does not send it a third time
    await run(["dispatcher", "run", "--once"], { cwd: dir, env });
    expect(posted).toHaveLength(1);
  } finally {
    server.stop(true);
  }
}, 120_000);
