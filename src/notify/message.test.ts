import { describe, expect, test } from "bun:test";
import type { Notification } from "../core/types.ts";
import { discordEmbed, plainText, renderMessage, slackBlocks, summaryLine } from "./message.ts";

const oom: Notification = {
  kind: "recovery",
  title: "[oom] CUDA out of memory at step 84,000",
  body: "action=restart_with_env source=rule rule=oom_halve_batch",
  incident_id: "2026-01-01T03-00-00Z-error-oom",
  detail: {
    subject: "train.py",
    detector: "oom",
    fingerprint: "fp1",
    what: "CUDA out of memory at step 84,000",
    action: "restarted with BATCH_SIZE=32",
    rule: "oom_halve_batch",
    restart: 2,
    max_restarts: 50,
    exception: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
    frame: "train.py:84 in step",
    healed: true,
  },
};

describe("renderMessage", () => {
  test("one line says what broke and what was done; the detail follows", () => {
    expect(summaryLine(oom)).toBe(
      "train.py: CUDA out of memory at step 84,000 → restarted with BATCH_SIZE=32 (rule oom_halve_batch); restart 2/50",
    );
    const m = renderMessage(oom, { publicUrl: "https://sentry.example.org/" });
    expect(m.detail).toEqual([
      "action=restart_with_env source=rule rule=oom_halve_batch",
      "exception: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
      "at: train.py:84 in step",
      "detector: oom",
      "incident: 2026-01-01T03-00-00Z-error-oom",
    ]);
    expect(m.url).toBe("https://sentry.example.org/incidents/2026-01-01T03-00-00Z-error-oom");
    expect(plainText(m).split("\n")[0]).toBe(m.summary);
    expect(plainText(m).split("\n").at(-1)).toBe(m.url as string);
  });

  test("without detail the title is the line; unlimited restarts read ∞; no link without public_url", () => {
    expect(
      summaryLine({ kind: "exit", title: "supervised work complete", body: "", incident_id: null }),
    ).toBe("supervised work complete");
    const unlimited = { ...oom, detail: { ...oom.detail, max_restarts: 0, rule: null } };
    expect(summaryLine(unlimited)).toBe(
      "train.py: CUDA out of memory at step 84,000 → restarted with BATCH_SIZE=32; restart 2/∞",
    );
    expect(renderMessage(oom).url).toBeNull();
  });

  test("Block Kit and embeds carry the same facts, escaped and within the services' limits", () => {
    const m = renderMessage(
      { ...oom, detail: { ...oom.detail, what: "a < b & c" } },
      { publicUrl: "http://h" },
    );
    // biome-ignore lint/suspicious/noExplicitAny: the test reads arbitrary Block Kit JSON
    const blocks = slackBlocks(m, "autosentry · o0") as Array<Record<string, any>>;
    expect(blocks.map((b) => b.type)).toEqual(["section", "context", "actions", "context"]);
    expect(blocks[0]!.text.text).toContain("a &lt; b &amp; c");
    expect(blocks[2]!.elements[0].url).toBe(`http://h/incidents/${oom.incident_id}`);
    const e = discordEmbed(m, "autosentry · o0");
    expect(e.title).toStartWith("🛠️ train.py: a < b & c");
    expect(e.url).toBe(`http://h/incidents/${oom.incident_id}`);
    expect(e.footer).toEqual({ text: "autosentry · o0" });
    const long = discordEmbed(renderMessage({ ...oom, detail: { what: "x".repeat(400) } }));
    expect(String(long.title).length).toBeLessThanOrEqual(256);
  });
});
