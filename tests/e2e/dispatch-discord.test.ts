/**
 * End-to-end, Discord: the same story as dispatch-slack.test.ts with the dispatcher running as its
 * own process (`autosentry dispatcher run`, as under a login-node tmux) next to the monitor:
 * the failure lands in a thread opened on the first message; pause (durable), resume and
 * set max_restarts from the thread reach the monitor; a stranger's command does nothing.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord.ts";
import { FLAKY_JOB, flakyConfig } from "./dispatch-shared.ts";
import { alive, journal, makeProject, readFile, readState, run, start, testEnv, waitFor } from "./helpers.ts";

let discord: FakeDiscord | null = null;
afterEach(async () => {
  await discord?.close();
  discord = null;
});

const CHANNEL = "100000000000000777";
const ALICE = "300000000000000001";
const MALLORY = "300000000000000666";

describe("Discord: notifications in a thread, commands from it", () => {
  test("standalone dispatcher: summary in the thread; pause, resume, set max_restarts; strangers ignored", async () => {
    discord = startFakeDiscord({ channels: [CHANNEL] });
    const dir = makeProject(
      { "job.sh": FLAKY_JOB },
      flakyConfig(
        `  - { kind: discord_outbox, channel: "${CHANNEL}" }`,
        `  allowed_users: ["discord:${ALICE}"]\n  poll_seconds: 0.3`,
      ),
    );
    const env = testEnv({ DISCORD_BOT_TOKEN: "discord-test-token", AUTOSENTRY_DISCORD_API_URL: discord.api });
    // Before anything delivers the outbox, doctor says so.
    const doc = await run(["doctor"], { cwd: dir, env });
    expect(doc.stdout).toContain("nothing delivers");
    const mon = start(["run"], { cwd: dir, env });
    const disp = start(["dispatcher", "run"], { cwd: dir, env });
    const parent = await waitFor("the first message", () => discord!.inChannel(CHANNEL)[0]);
    const thread = parent.id;
    await waitFor("the thread", () => discord!.threads.get(thread) === CHANNEL);
    const summary =
      /^job\.sh: .*CUDA out of memory.* → restarted with BATCH_SIZE=32 \(rule oom_halve_batch\); restart 1\/5$/;
    const hit = await waitFor("the failure in the thread", () =>
      discord!.inChannel(thread).find((m) => summary.test(m.content.split("\n")[0] ?? "")),
    );
    expect(hit.embeds[0]!.title).toMatch(/CUDA out of memory/);
    await waitFor(
      "the second child",
      () => readState(dir)?.phase === "running" && readFile(dir, "runs").trim() === "2",
    );
    const child = Number(readFile(dir, "child.pid"));
    const botSaid = () =>
      discord!
        .inChannel(thread)
        .filter((m) => m.author.bot)
        .map((m) => m.content.split("\n")[0]);

    discord.reply(thread, MALLORY, "pause");
    await waitFor("the refusal", () => botSaid().some((t) => t?.startsWith(`ignored: discord:${MALLORY}`)));
    expect(readState(dir)!.phase).toBe("running");
    expect(alive(child)).toBe(true);

    discord.reply(thread, ALICE, "pause maintenance window");
    await waitFor("the pause", () => readState(dir)?.phase === "paused");
    expect(readState(dir)!.desired).toBe("paused");
    await waitFor("the child to be gone", () => !alive(child));
    // Durable: a monitor restarted now comes back paused.
    mon.proc.kill("SIGKILL");
    await mon.proc.exited;
    const mon2 = start(["run"], { cwd: dir, env });
    await waitFor("the new monitor, paused", () => {
      const st = readState(dir);
      return st?.monitor?.pid === mon2.pid && st?.phase === "paused";
    });

    discord.reply(thread, ALICE, "resume");
    await waitFor(
      "a new child",
      () => readState(dir)?.phase === "running" && readFile(dir, "runs").trim() === "3",
    );
    discord.reply(thread, ALICE, "set max_restarts 3");
    await waitFor("the override", () => readState(dir)?.max_restarts === 3);
    const st = await run(["status"], { cwd: dir, env });
    expect(st.stdout).toMatch(/restarts:\s+1\/3 in a row without a verified fix/);
    await waitFor("the acknowledgements", () =>
      ["⏸ pause from", "▶️ resume from", "⚙️ set max_restarts 3 from"].every((p) =>
        botSaid().some((t) => t?.startsWith(p)),
      ),
    );
    const cmds = journal(dir)
      .filter((e) => e.event === "operator_command")
      .map((e) => [e.command, e.user]);
    expect(cmds).toEqual([
      ["pause", `discord:${ALICE}`],
      ["resume", `discord:${ALICE}`],
      ["set", `discord:${ALICE}`],
    ]);

    // While the dispatcher runs, doctor is content; a second dispatcher steps aside.
    const doc2 = await run(["doctor"], { cwd: dir, env });
    expect(doc2.stdout).not.toContain("nothing delivers");
    const second = await run(["dispatcher", "run", "--once"], { cwd: dir, env });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("another dispatcher delivers");

    mon2.proc.kill("SIGTERM");
    await mon2.wait();
    disp.proc.kill("SIGTERM");
    expect((await disp.wait()).code).toBe(0);
    // Every notification went out, whichever environment asks (no token here: the newest ledger).
    const pending = await run(["dispatcher", "pending"], { cwd: dir, env: testEnv() });
    expect(pending.code).toBe(0);
    expect(pending.stdout).toStartWith("nothing pending in ");
    const before = await run(["dispatcher", "pending", "--json"], { cwd: dir, env });
    expect(JSON.parse(before.stdout).pending).toEqual([]);
  });
});
