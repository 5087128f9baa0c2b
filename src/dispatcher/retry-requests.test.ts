/**
 * `dispatcher retry`'s request file: no request is lost when it is written while the dispatcher
 * takes the file (writer processes racing a taking loop), and a take cut short is finished later.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requestRetries, takeRetryRequests } from "./retry-requests.ts";

let tmp = "";
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-retry-req-"));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const MODULE = path.join(import.meta.dir, "retry-requests.ts");

describe("retry requests", () => {
  test("every request written by concurrent writers while the dispatcher takes the file is taken", async () => {
    const file = path.join(tmp, "discord.retry.jsonl");
    const perWriter = 5000;
    const script = `const { requestRetries } = await import(${JSON.stringify(MODULE)});
const [file, id, n] = process.argv.slice(-3);
for (let i = 0; i < Number(n); i++) requestRetries(file, [id + "-" + i]);`;
    const writers = ["a", "b"].map((id) =>
      Bun.spawn([process.execPath, "-e", script, file, id, String(perWriter)], { stderr: "inherit" }),
    );
    let running = true;
    const exited = Promise.all(writers.map((w) => w.exited)).finally(() => {
      running = false;
    });
    const taken = new Set<string>();
    let takes = 0;
    while (running) {
      for (const k of takeRetryRequests(file)) taken.add(k);
      takes++;
      await Bun.sleep(0);
    }
    expect(await exited).toEqual([0, 0]);
    for (const k of takeRetryRequests(file)) taken.add(k);
    const missing = ["a", "b"].flatMap((id) =>
      Array.from({ length: perWriter }, (_, i) => `${id}-${i}`).filter((k) => !taken.has(k)),
    );
    expect(missing).toEqual([]);
    expect(takes).toBeGreaterThan(1); // the take really ran while they wrote
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test("a take cut short after the rename (a killed dispatcher) is finished by the next take", () => {
    const file = path.join(tmp, "slack.retry.jsonl");
    requestRetries(file, ["o1", "o2"]);
    fs.renameSync(file, `${file}.taking`); // killed right after taking the file
    requestRetries(file, ["o3"]);
    expect(takeRetryRequests(file).sort()).toEqual(["o1", "o2"]);
    expect(takeRetryRequests(file)).toEqual(["o3"]);
    expect(takeRetryRequests(file)).toEqual([]);
  });

  test("one request's keys are taken together, each once", () => {
    const file = path.join(tmp, "x.retry.jsonl");
    requestRetries(file, ["o4", "o5", "o4"]);
    expect(takeRetryRequests(file)).toEqual(["o4", "o5"]);
  });
});
