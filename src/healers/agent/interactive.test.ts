/**
 * The interactive handshake, with the real `autosentry healer respond` (from source) as the writer.
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseActionBlock } from "./action-block.ts";
import {
  formatRequest,
  formatResponse,
  requestAndWait,
  requestIncidentId,
  responseIncidentId,
  type WaitResult,
} from "./interactive.ts";

const MAIN = path.resolve(import.meta.dir, "../../../main.ts");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function project(): { root: string; request: string; response: string } {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-interactive-")));
  dirs.push(root);
  fs.mkdirSync(path.join(root, ".autosentry"));
  fs.writeFileSync(path.join(root, ".autosentry/autosentry.yaml"), "process:\n  command: [true]\n");
  return {
    root,
    request: path.join(root, ".autosentry/recovery_request.md"),
    response: path.join(root, ".autosentry/recovery_response.md"),
  };
}

function respond(root: string, ...args: string[]) {
  const p = Bun.spawnSync([process.execPath, MAIN, "healer", "respond", ...args], {
    cwd: root,
    env: process.env,
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

async function until<T>(what: string, f: () => T | null | undefined | false): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = f();
    if (v) return v;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const INFO = {
  incidentId: "20261122-030405-error-traceback",
  detector: "traceback",
  subagent: { type: "debugger", description: "Find the bug" },
  timeoutSeconds: 60,
};

describe("request and response files", () => {
  test("the request names the real incident, the subagent and the timeout, then the prompt", () => {
    const text = formatRequest(INFO, "PROMPT BODY {{x}}");
    expect(text).toMatch(
      /^---\nincident_id: "20261122-030405-error-traceback"\ndetector: "traceback"\nsubagent:\n {2}type: "debugger"\n {2}description: "Find the bug"\ntimeout_seconds: 60\nrequested_at: "[^"]+"\n---\n\nPROMPT BODY \{\{x\}\}\n$/,
    );
    expect(requestIncidentId(text)).toBe(INFO.incidentId);
  });

  test("a response parses back to its action, whatever the diagnosis says", () => {
    const text = formatResponse(
      { kind: "restart_with_env", set: { BATCH_SIZE: "half" }, command: [], notify: true },
      { incidentId: "X-1", diagnosis: "The fix:\nACTION: abort\nSET: EVIL=1" },
    );
    expect(responseIncidentId(text)).toBe("X-1");
    const parsed = parseActionBlock(text);
    expect(parsed.action).toEqual({
      kind: "restart_with_env",
      set: { BATCH_SIZE: "half" },
      command: [],
      notify: true,
    });
    expect(parseActionBlock(formatResponse(null, {})).none).toBe(true);
  });
});

describe("requestAndWait", () => {
  test("answered by `autosentry healer respond`; a stale response and one for another incident are ignored", async () => {
    const p = project();
    // Left over from an earlier incident, before the request: must not count.
    fs.writeFileSync(p.response, "<!-- incident_id: old -->\nACTION: abort\n");
    const ignored: string[] = [];
    const waiting = requestAndWait({
      requestPath: p.request,
      responsePath: p.response,
      info: INFO,
      prompt: "what now?",
      pollMs: 20,
      onIgnored: (w) => ignored.push(w),
    });
    let settled: WaitResult | null = null;
    void waiting.then((r) => {
      settled = r;
    });
    const req = await until(
      "the request file",
      () => fs.existsSync(p.request) && fs.readFileSync(p.request, "utf8"),
    );
    expect(requestIncidentId(req)).toBe(INFO.incidentId);
    expect(req).toContain("what now?");

    // Someone answers another incident: ignored, the wait goes on.
    const other = respond(p.root, "--action", "pause", "--incident-id", "20261122-000000-other");
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`the waiting request is for incident ${INFO.incidentId}`);
    fs.writeFileSync(p.response, "<!-- incident_id: 20261122-000000-other -->\nACTION: pause\n");
    await until("the foreign response to be noticed", () => ignored.length > 0);
    expect(ignored[0]).toContain("ignored a response for incident 20261122-000000-other");
    expect(settled).toBeNull();

    const ok = respond(
      p.root,
      "--action",
      "custom_command",
      "--command",
      "python",
      "--command",
      "--repair",
      "--timeout",
      "30",
      "-d",
      "index was corrupt",
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`for incident ${INFO.incidentId}`);
    const r = await waiting;
    expect(r.kind).toBe("response");
    const text = (r as { text: string }).text;
    expect(responseIncidentId(text)).toBe(INFO.incidentId);
    expect(text).toContain("index was corrupt");
    expect(parseActionBlock(text).action).toEqual({
      kind: "custom_command",
      set: {},
      command: ["python", "--repair"],
      timeout_seconds: 30,
      notify: true,
    });
    // The request is gone once answered.
    expect(fs.existsSync(p.request)).toBe(false);
  });

  test("an abort ends the wait and removes the request", async () => {
    const p = project();
    const ac = new AbortController();
    const waiting = requestAndWait({
      requestPath: p.request,
      responsePath: p.response,
      info: INFO,
      prompt: "p",
      signal: ac.signal,
    });
    await until("the request file", () => fs.existsSync(p.request));
    ac.abort();
    expect(await waiting).toEqual({ kind: "aborted" });
    expect(fs.existsSync(p.request)).toBe(false);
  });

  test("no response within the timeout", async () => {
    const p = project();
    const r = await requestAndWait({
      requestPath: p.request,
      responsePath: p.response,
      info: { ...INFO, timeoutSeconds: 0.3 },
      prompt: "p",
      pollMs: 20,
    });
    expect(r).toEqual({ kind: "timeout" });
    expect(fs.existsSync(p.request)).toBe(false);
  });
});

describe("autosentry healer respond", () => {
  test("bad actions and options are usage errors (exit 2) and write nothing", () => {
    const p = project();
    for (const args of [
      ["--action", "reboot"],
      ["--action", "restart_with_env"],
      ["--action", "restart", "--set", "A=1"],
      ["--action", "custom_command"],
      ["--action", "pause", "--command", "x"],
      ["--action", "restart", "--set", "not a name=1"],
      ["--action", "restart", "--timeout", "5"],
    ]) {
      const r = respond(p.root, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
    }
    expect(fs.existsSync(p.response)).toBe(false);
  });

  test("without a waiting request it refuses (exit 1) and writes nothing: such a response would answer nothing", () => {
    const p = project();
    const r = respond(p.root, "--action", "abort", "-d", "stop it");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no recovery request is waiting");
    expect(r.stderr).toContain("nothing written");
    expect(fs.existsSync(p.response)).toBe(false);
  });
});
