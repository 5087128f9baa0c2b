import { expect, test } from "bun:test";
import type { Notification } from "../core/types.ts";
import { notificationLine } from "./log.ts";

const n = (over: Partial<Notification>): Notification => ({
  kind: "recovery",
  title: "[exit_code] process exited with code 1",
  body: "",
  incident_id: null,
  ...over,
});

test("the incident is named once: not again when the body already says incident=<id>", () => {
  expect(
    notificationLine(
      n({ body: "incident=2026-x (no action applied; restart policy)", incident_id: "2026-x" }),
    ),
  ).toBe("[exit_code] process exited with code 1 — incident=2026-x (no action applied; restart policy)");
  expect(notificationLine(n({ body: "fix kept", incident_id: "2026-y" }))).toBe(
    "[exit_code] process exited with code 1 — fix kept (incident: 2026-y)",
  );
  expect(notificationLine(n({ title: "autosentry monitor stopping", body: "done" }))).toBe(
    "autosentry monitor stopping — done",
  );
});
