/**
 * End-to-end: the docker backend with the Docker CLI against podman's Docker API
 * (scripts/ci/podman-up.sh; image localhost/busybox:latest imported from busybox-static).
 *
 * The short form (image and command), env passed into the container by name, stdout and stderr
 * kept apart, a container killed from outside (never a success), a name taken by a container
 * this monitor did not start, and a container that ended while no monitor watched (its last lines
 * and real exit code are still reported, nothing is started again). The contract shared with the
 * other backends is in backends.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  announceSkip,
  childId,
  cleanUp,
  IMAGE,
  monitor,
  type Project,
  project,
  SKIP_SERVICES,
  sh,
  starts,
  touch,
} from "../fixtures/backends/harness.ts";
import { incidentIds, journal, readFile, readState, waitFor } from "./helpers.ts";

afterAll(cleanUp);
announceSkip("the docker backend tests");

function marks(p: Project, re: RegExp): Array<{ message: string; generation: number; detector: string }> {
  return journal(p.dir)
    .filter((e) => e.event === "detection" && re.test(String(e.message)))
    .map((e) => ({
      message: String(e.message),
      generation: Number(e.generation),
      detector: String(e.detector),
    }));
}

/** Rewrite process.command of a project's config. */
function setCommand(p: Project, command: string[]): void {
  const f = path.join(p.dir, ".autosentry", "autosentry.yaml");
  const text = fs
    .readFileSync(f, "utf8")
    .replace(/^ {2}command: .*$/m, () => `  command: ${JSON.stringify(command)}`);
  fs.writeFileSync(f, text);
}

describe.skipIf(SKIP_SERVICES)("docker", () => {
  test("the Docker API is up (scripts/ci/podman-up.sh)", () => {
    const r = sh(["docker", "version", "--format", "{{.Server.Version}}"]);
    expect(r.code).toBe(0);
    expect(sh(["docker", "image", "inspect", IMAGE]).code).toBe(0);
  });

  test("image and command: env reaches the container by name only; stdout and stderr stay apart", async () => {
    const p = project("docker", {
      script: "ok.sh",
      env: { RUN_LABEL: "blue-heron" },
      tail: `detectors:
  - { name: err_only, kind: pattern, regex: "ALERT \\\\w+", stream: stderr, cooldown_seconds: 0 }
  - { name: label, kind: pattern, regex: "LABEL=\\\\S+", cooldown_seconds: 0 }
`,
      processYaml: "  restart_policy: { max_identical_failures: 0 }",
    });
    setCommand(p, [
      IMAGE,
      "sh",
      "-c",
      'echo "LABEL=$$RUN_LABEL"; echo "ALERT out"; echo "ALERT err" >&2; sleep 1',
    ]);
    const r = await monitor(p).wait(60_000);
    expect(r.code).toBe(0);
    expect(marks(p, /LABEL=/).map((m) => m.message)).toEqual(["LABEL=blue-heron"]);
    expect(marks(p, /ALERT/).map((m) => m.message)).toEqual(["ALERT err"]);
    const started = readFile(p.dir, ".autosentry/logs/autosentry.log")
      .split("\n")
      .find((l) => l.includes("Started generation 1"))!;
    expect(started).toContain(`docker run -d --name ${p.container} -e RUN_LABEL ${IMAGE} sh -c`);
    // The value travels in the docker CLI's environment, not on its command line.
    expect(started).not.toContain("blue-heron");
    expect(readState(p.dir)!.last_exit_class).toBe("success");
  }, 90_000);

  test("a container killed from outside is a signal death, never a success", async () => {
    const p = project("docker", {
      script: "forever.sh",
      lifecycle: "one_shot",
      tail: `detectors:\n  - { name: marker, kind: pattern, regex: "MARK \\\\w+" }\n`,
    });
    const m = monitor(p);
    await waitFor("the container's output", () => marks(p, /MARK started/).length === 1, 60_000);
    const id = await waitFor("the child record", () => childId(p));
    expect(sh(["docker", "kill", id]).code).toBe(0);
    const r = await m.wait(60_000);
    expect(r.code).toBe(137);
    const st = readState(p.dir)!;
    expect(st.last_exit_class).toBe("signal");
    expect(st.last_exit_code).toBe(137);
    expect(journal(p.dir).find((e) => e.event === "child_exited")?.exit_class).toBe("signal");
    expect(marks(p, /process killed by SIGKILL \(exit code 137\)/)).toHaveLength(1);
    expect(incidentIds(p.dir).length).toBeGreaterThan(0);
  }, 90_000);

  test("a running container of the same name that this monitor did not start is left alone", async () => {
    const p = project("docker", { script: "ok.sh" });
    const stranger = sh(["docker", "run", "-d", "--name", p.container!, IMAGE, "sleep", "60"]);
    expect(stranger.code).toBe(0);
    const r = await monitor(p).wait(60_000);
    expect(r.code).toBe(1);
    expect(readState(p.dir)!.stop_reason).toContain(
      `a container named ${p.container} is already running and this monitor did not start it`,
    );
    expect(sh(["docker", "inspect", "-f", "{{.State.Running}}", p.container!]).out.trim()).toBe("true");
    expect(starts(p)).toHaveLength(0);
  }, 90_000);

  test("a container that ended while no monitor watched: its last lines and exit code are reported, nothing restarts", async () => {
    const p = project("docker", {
      script: "late-exit5.sh",
      lifecycle: "one_shot",
      tail: `detectors:\n  - { name: marker, kind: pattern, regex: "MARK \\\\w+", cooldown_seconds: 0 }\n`,
      processYaml: "  restart_policy: { max_identical_failures: 0 }",
      monitorYaml: "heartbeat_seconds: 1",
    });
    const first = monitor(p);
    await waitFor("the container's output", () => marks(p, /MARK started/).length === 1, 60_000);
    const id = await waitFor("the child record", () => childId(p));
    // The log cursor reaches state.json with the heartbeat (1 s here).
    await waitFor("the log cursor in state.json", () => readState(p.dir)?.child?.details?.outN === 1);
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    touch(p, "poke");
    await waitFor(
      "the container to exit",
      () => sh(["docker", "inspect", "-f", "{{.State.Running}}", id]).out.trim() === "false",
    );
    const r = await monitor(p).wait(60_000);
    expect(r.code).toBe(5);
    const st = readState(p.dir)!;
    expect(st.last_exit_class).toBe("failure");
    expect(st.last_exit_code).toBe(5);
    expect(marks(p, /MARK late$/)).toHaveLength(1);
    expect(marks(p, /MARK lateerr/)).toHaveLength(1);
    // The first monitor's lines are not read twice.
    expect(marks(p, /MARK started/)).toHaveLength(1);
    expect(starts(p)).toHaveLength(1);
    expect(journal(p.dir).filter((e) => e.event === "child_started")).toHaveLength(1);
  }, 90_000);
});
