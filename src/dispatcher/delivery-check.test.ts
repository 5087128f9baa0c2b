import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadConfig } from "../config/load.ts";
import { acquireLock } from "../monitor/lock.ts";
import { deliveryFindings } from "./delivery-check.ts";

let tmp: string;
beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "as-delivery-")));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cfg(yaml: string) {
  fs.mkdirSync(path.join(tmp, ".autosentry"), { recursive: true });
  fs.writeFileSync(
    path.join(tmp, ".autosentry", "autosentry.yaml"),
    `process:\n  command: [sh, -c, "true"]\n${yaml}`,
  );
  return loadConfig({ cwd: tmp });
}

describe("deliveryFindings", () => {
  test("an outbox nothing delivers is a warning; a live dispatcher's lock makes it ok", () => {
    const c = cfg("notifiers:\n  - { kind: slack_outbox, channel: C1 }\n");
    const [f, open] = deliveryFindings(c, {});
    expect(open).toEqual({
      level: "warn",
      name: "chat commands",
      detail:
        "dispatch.allowed_users is empty: anyone who can reply in the channel can pause or abort this run",
    });
    expect(f).toEqual({
      level: "warn",
      name: "slack_outbox",
      detail: `nothing delivers ${path.join(tmp, ".autosentry/slack_outbox.jsonl")}: run \`autosentry dispatcher run\` (e.g. in tmux next to the job) or set \`dispatch.bridge: true\``,
    });
    const lock = acquireLock(path.join(tmp, ".autosentry", "dispatch", "slack_outbox.lock"));
    try {
      expect(deliveryFindings(c, {})[0]!.level).toBe("ok");
    } finally {
      lock.release();
    }
  });

  test("the bridge needs credentials; a signed webhook needs its secret; log-only configs say nothing", () => {
    const c = cfg(
      "notifiers:\n  - { kind: discord_outbox, channel: '1' }\n  - { kind: webhook, url: 'http://127.0.0.1:9/x', secret_env: HOOK_SECRET }\ndispatch:\n  bridge: true\n  allowed_users: ['discord:42']\n",
    );
    expect(deliveryFindings(c, {}).map((f) => [f.level, f.name])).toEqual([
      ["warn", "discord_outbox"],
      ["warn", "webhook signing"],
    ]);
    const ok = deliveryFindings(c, { DISCORD_BOT_TOKEN: "t", HOOK_SECRET: "s" });
    expect(ok).toEqual([
      {
        level: "ok",
        name: "discord_outbox",
        detail: "delivered by the monitor (dispatch.bridge, discord_bot)",
      },
    ]);
    expect(deliveryFindings(cfg(""), {})).toEqual([]);
  });
});
