/**
 * End-to-end: a job whose .env, config snapshot, source, output, exception and repair command all
 * carry secrets fails twice under `autosentry run`. No secret value may appear in any file under
 * the incidents directory or the vault, nor in `autosentry explain` (Markdown, JSON, -o FILE);
 * the evidence around the secrets must still be there.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { incidentIds, makeProject, readFile, run } from "./helpers.ts";

const HF = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
const OPENAI = "sk-proj-Abc123Def456Ghi789Jkl012Mno345Pqr";
const GITHUB = "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
const DB_PASSWORD = "Tr41nerPassw0rd";
const S3_PASSWORD = "Upl0adPassw0rd";
const PEM_LINES = [
  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
  "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
  "NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ",
];
const SECRETS = [HF, OPENAI, GITHUB, DB_PASSWORD, S3_PASSWORD, ...PEM_LINES];
const PEM = ["-----BEGIN PRIVATE KEY-----", ...PEM_LINES, "-----END PRIVATE KEY-----"];

const ENV_FILE = [
  `HF_TOKEN=${HF}`,
  `OPENAI_API_KEY=${OPENAI}`,
  `DATABASE_URL=postgres://trainer:${DB_PASSWORD}@db.internal:5432/runs`,
  "",
].join("\n");

const CONFIG_SNAPSHOT = [
  "github:",
  `  token: ${GITHUB}`,
  "storage:",
  `  url: https://uploader:${S3_PASSWORD}@s3.example.com/bucket`,
  "tls:",
  "  key: |",
  ...PEM.map((l) => `    ${l}`),
  "batch_size: 64",
  "",
].join("\n");

/** Reads .env, prints what a careless job prints, and fails in a method with the token in the message. */
const JOB = `import os
import sys

API_KEY = "${OPENAI}"


def load_env(path):
    out = {}
    for line in open(path):
        if "=" in line:
            k, v = line.strip().split("=", 1)
            out[k] = v
    return out


class Uploader:
    def __init__(self, env):
        self.env = env

    def push(self):
        print("connecting to " + self.env["DATABASE_URL"], flush=True)
        print("loaded key:\\n" + open("../tls.pem").read(), flush=True)
        token = self.env["HF_TOKEN"]
        raise PermissionError("upload rejected for token " + token)


Uploader(load_env("../.env")).push()
`;

const CONFIG = `process:
  command: [python3, -u, train.py]
  cwd: app
  env: { HF_TOKEN: "${HF}", BATCH_SIZE: "64" }
  restart_policy: { max_restarts: 1, cooldown_seconds: 0.1, max_identical_failures: 0 }
detectors:
  - kind: traceback
rules:
  - name: refresh_credentials
    match: { detector: traceback }
    action:
      kind: custom_command
      command: [sh, -c, 'echo "refreshing with $$HF_TOKEN and ${GITHUB}"; exit 0']
config_snapshots: [.env, configs/run.yaml]
vault: { pattern_threshold: 2 }
`;

/** Every regular file under `dir`, recursively. */
function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile());
}

function leaks(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s));
}

describe("secrets never reach the evidence", () => {
  test("incident folders, index, vault and explain are redacted; the evidence is still there", async () => {
    const dir = makeProject(
      {
        ".env": ENV_FILE,
        "configs/run.yaml": CONFIG_SNAPSHOT,
        "tls.pem": `${PEM.join("\n")}\n`,
        "app/train.py": JOB,
      },
      CONFIG,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).not.toBe(0);
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(2);

    // The secrets really went through: the job printed them and the command saw them.
    const processLog = readFile(dir, ".autosentry/logs/process.log");
    expect(processLog).toContain(DB_PASSWORD);
    expect(processLog).toContain(PEM_LINES[1]!);

    const incidentFiles = files(path.join(dir, ".autosentry", "incidents"));
    const inc = `.autosentry/incidents/${ids[0]}`;
    for (const rel of [
      "report.md",
      "trace.txt",
      "log_excerpt.txt",
      "state.json",
      "detections.json",
      "incident.json",
      "frames/01-train.py.md",
      "configs/.env",
      "configs/run.yaml",
      "fix/action.json",
      "fix/command_output.txt",
    ]) {
      expect(incidentFiles).toContain(path.join(dir, inc, rel));
    }
    expect(incidentFiles).toContain(path.join(dir, ".autosentry", "incidents", "index.jsonl"));
    const vaultFiles = files(path.join(dir, ".autosentry", "vault"));
    expect(vaultFiles.length).toBeGreaterThan(5);
    // The monitor's own records too (process.log is the job's raw output and is not rewritten).
    const monitorFiles = [
      path.join(dir, ".autosentry", "logs", "events.jsonl"),
      path.join(dir, ".autosentry", "logs", "autosentry.log"),
      path.join(dir, ".autosentry", "state.json"),
    ];
    for (const f of [...incidentFiles, ...vaultFiles, ...monitorFiles]) {
      expect({ file: path.relative(dir, f), leaks: leaks(fs.readFileSync(f, "utf8")) }).toEqual({
        file: path.relative(dir, f),
        leaks: [],
      });
    }

    // What stays: the failure, the method around it, the config's harmless values, the command's run.
    const report = readFile(dir, `${inc}/report.md`);
    expect(report).toMatch(/PermissionError: upload rejected for token (hf_)?\[REDACTED\]/);
    expect(report).toContain("**Where:** method `push` of class `Uploader`");
    expect(report).toContain("`BATCH_SIZE=64`");
    expect(readFile(dir, `${inc}/configs/run.yaml`)).toContain("batch_size: 64");
    expect(readFile(dir, `${inc}/fix/command_output.txt`)).toMatch(/refreshing with (hf_)?\[REDACTED\]/);
    expect(readFile(dir, `${inc}/log_excerpt.txt`)).toContain(
      "connecting to postgres://trainer:[REDACTED]@db.internal",
    );

    for (const args of [["explain"], ["explain", "--json"]]) {
      const out = await run(args, { cwd: dir });
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/upload rejected for token (hf_)?\[REDACTED\]/);
      expect(out.stdout).toContain(".autosentry/logs/process.log");
      expect({ args, leaks: leaks(out.stdout) }).toEqual({ args, leaks: [] });
    }
    const outFile = path.join(dir, "bundle.md");
    const written = await run(["explain", "-o", outFile], { cwd: dir });
    expect(written.code).toBe(0);
    expect(written.stdout).toBe("");
    const bundle = fs.readFileSync(outFile, "utf8");
    expect(bundle).toContain(`## Evidence: .autosentry/incidents/${ids[1]}/report.md`);
    expect(leaks(bundle)).toEqual([]);
  });
});
