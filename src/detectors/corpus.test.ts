/**
 * The detection corpus (tests/corpus/, issue 12): every failure log detected, no healthy log firing,
 * and at least 95 % of exception types and innermost frames exact. Each miss is listed in the
 * failure message so a regression says which log and what was found instead.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CORPUS_DIR, type LogResult, readManifest, scoreCorpus } from "../../tests/corpus/score.ts";

const score = scoreCorpus();

function misses(pick: (r: LogResult) => boolean): string[] {
  return score.results
    .filter((r) => !pick(r))
    .map((r) => `${r.entry.file}: want ${JSON.stringify(r.entry.expect)}, got ${JSON.stringify(r.got)}`);
}

describe("detection corpus", () => {
  test("has at least 120 failure logs and 20 healthy ones, each with a source URL and shape", () => {
    const entries = readManifest();
    expect(entries.filter((e) => e.expect.detected).length).toBeGreaterThanOrEqual(120);
    expect(entries.filter((e) => !e.expect.detected).length).toBeGreaterThanOrEqual(20);
    expect(new Set(entries.map((e) => e.file)).size).toBe(entries.length);
    // every log on disk is scored (a log missing from the manifest would be silently skipped)
    const onDisk = fs
      .readdirSync(CORPUS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => fs.readdirSync(path.join(CORPUS_DIR, d.name)).map((f) => `${d.name}/${f}`));
    expect(onDisk.sort()).toEqual(entries.map((e) => e.file).sort());
  });

  test("every failure log is detected", () => {
    expect(misses((r) => !r.entry.expect.detected || r.detected)).toEqual([]);
  });

  test("no healthy log fires", () => {
    expect(misses((r) => r.entry.expect.detected || !r.detected)).toEqual([]);
  });

  test("exception types exact on at least 95 % of failure logs", () => {
    const wrong = misses((r) => r.typeOk);
    expect(score.typeExact / score.failures, wrong.join("\n")).toBeGreaterThanOrEqual(0.95);
  });

  test("innermost frames exact on at least 95 % of failure logs", () => {
    const wrong = misses((r) => r.frameOk);
    expect(score.frameExact / score.failures, wrong.join("\n")).toBeGreaterThanOrEqual(0.95);
  });

  test("signatures named and project frames found where the manifest expects them (95 %)", () => {
    expect(
      score.signatureExact / score.signatureChecked,
      misses((r) => r.signatureOk).join("\n"),
    ).toBeGreaterThanOrEqual(0.95);
    expect(
      score.projectExact / score.projectChecked,
      misses((r) => r.projectOk).join("\n"),
    ).toBeGreaterThanOrEqual(0.95);
  });

  test("every message the manifest records ends where it says (no later log record taken in)", () => {
    expect(misses((r) => r.messageOk)).toEqual([]);
  });
});
