/**
 * End-to-end: a supervised job fails, the notification reaches a (fake) Slack thread with the
 * one-line summary, and replies in that thread command the monitor: pause (durable), resume,
 * set max_restarts (seen in `autosentry status`), and a user not on the allow-list is ignored.
 * The dispatcher runs inside the monitor (`dispatch.bridge: true`).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type FakeSlack, startFakeSlack } from "../fakes/slack.ts";
import { FLAKY_JOB, flakyConfig } from "./dispatch-shared.ts";
import { alive, journal, makeProject, readFile, readState, run, start, testEnv, waitFor } from "./helpers.ts";

let slack: FakeSlack | null = null;
afterEach(async () => {
  await slack?.close();
  slack = null;
});

describe("Slack: notifications in a thread, commands from it", () => {
  test("failure summary in the thread; pause, resume, set max_restarts; strangers ignored", async () => {
    slack = startFakeSlack();
    const dir = makeProject(
      { "job.sh": FLAKY_JOB },
      flakyConfig(
        "  - { kind: slack_outbox, channel: C0RUNS, thread_key: train }",
        "  bridge: true\n  allowed_users: [UALICE]\n  poll_seconds: 0.3",
        "web:\n  public_url: https://sentry.example.org/\n",
      ),
    );
    const env = testEnv({ SLACK_BOT_TOKEN: "xoxb-test-token", AUTOSENTRY_SLACK_API_URL: slack.api });
    const mon = start(["run"], { cwd: dir, env });
    // What broke (the detection's message, whose wording belongs to the detector) → what was done.
    const summary =
      /^job\.sh: .*CUDA out of memory.* → restarted with BATCH_SIZE=32 \(rule oom_halve_batch\); restart 1\/5$/;
    const hit = await waitFor("the failure in the Slack thread", () =>
      slack!.messages.find((m) => summary.test(m.text.split("\n")[0] ?? "")),
    );
    const parent = slack.messages[0]!;
    expect(parent.text.split("\n")[0]).toBe("autosentry monitor starting");
    expect(hit.thread_ts).toBe(parent.ts);
    expect(hit.text).toContain("detector: oom");
    const incident = await waitFor(
      "the incident",
      () => readState(dir)?.last_incident_id as string | undefined,
    );
    expect(hit.text).toContain(`incident: ${incident}`);
    expect(hit.text.split("\n").at(-1)).toBe(`https://sentry.example.org/incidents/${incident}`);
    expect(hit.blocks?.length).toBeGreaterThan(0);
    await waitFor(
      "the second child",
      () => readState(dir)?.phase === "running" && readFile(dir, "runs").trim() === "2",
    );
    const child = Number(readFile(dir, "child.pid"));
    const botSaid = () =>
      slack!
        .thread(parent.ts)
        .filter((m) => m.user === "UBOT")
        .map((m) => m.text.split("\n")[0]);

    // A stranger's abort does nothing (and is told so).
    slack.reply("C0RUNS", parent.ts, "UMALLORY", "abort");
    await waitFor("the refusal", () => botSaid().some((t) => t?.startsWith("ignored: slack:UMALLORY")));
    expect(readState(dir)!.phase).toBe("running");
    expect(alive(child)).toBe(true);
    expect(journal(dir).some((e) => e.event === "chat_command_ignored" && e.user === "slack:UMALLORY")).toBe(
      true,
    );

    // pause: the child stops and the pause is durable (state.json says so).
    slack.reply("C0RUNS", parent.ts, "UALICE", "pause");
    await waitFor("the pause", () => readState(dir)?.phase === "paused");
    expect(readState(dir)!.desired).toBe("paused");
    expect(readState(dir)!.paused_by).toBe("slack:UALICE");
    await waitFor("the child to be gone", () => !alive(child));
    await waitFor("the acknowledgement", () =>
      botSaid().some((t) => t?.startsWith("⏸ pause from slack:UALICE")),
    );
    await waitFor("the monitor's own pause notice", () => botSaid().includes("supervised work paused"));

    // set env while paused, then resume: the new child runs with the override.
    slack.reply("C0RUNS", parent.ts, "UALICE", "set env BATCH_SIZE=8");
    slack.reply("C0RUNS", parent.ts, "UALICE", "resume");
    await waitFor(
      "a new child",
      () => readState(dir)?.phase === "running" && readFile(dir, "runs").trim() === "3",
    );
    await waitFor("the child to run with BATCH_SIZE=8", () =>
      readFile(dir, ".autosentry/logs/process.log").includes("step 3 BATCH_SIZE=8"),
    );
    expect(readState(dir)!.user.operator_overrides).toEqual({ env: { BATCH_SIZE: "8" } });

    // set max_restarts 3: shown by `autosentry status`.
    slack.reply("C0RUNS", parent.ts, "UALICE", "set max_restarts 3");
    await waitFor("the override", () => readState(dir)?.max_restarts === 3);
    const st = await run(["status"], { cwd: dir, env });
    expect(st.stdout).toMatch(/restarts:\s+1\/3 in a row without a verified fix/);

    // status is answered in the thread; note lands in the journal.
    slack.reply("C0RUNS", parent.ts, "UALICE", "status");
    await waitFor("the status answer", () => botSaid().some((t) => t?.startsWith("status: running")));
    slack.reply("C0RUNS", parent.ts, "UALICE", "note: lr schedule looks off");
    await waitFor("the note", () => journal(dir).some((e) => e.event === "operator_note"));
    const note = journal(dir).find((e) => e.event === "operator_note")!;
    expect([note.by, note.text]).toEqual(["slack:UALICE", "lr schedule looks off"]);
    const cmds = journal(dir)
      .filter((e) => e.event === "operator_command")
      .map((e) => [e.command, e.user, e.source]);
    expect(cmds).toEqual([
      ["pause", "slack:UALICE", "chat"],
      ["set", "slack:UALICE", "chat"],
      ["resume", "slack:UALICE", "chat"],
      ["set", "slack:UALICE", "chat"],
      ["status", "slack:UALICE", "chat"],
      ["note", "slack:UALICE", "chat"],
    ]);
    expect(readFile(dir, `.autosentry/incidents/${incident}/notes.md`)).toContain(
      "slack:UALICE: lr schedule looks off",
    );

    mon.proc.kill("SIGTERM");
    await mon.wait();
    // Every message went out once: no duplicate texts among the bot's own messages of this run.
    const keys = slack.messages.filter((m) => m.metadata).map((m) => m.metadata!.event_payload.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
