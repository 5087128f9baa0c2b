import { describe, expect, test } from "bun:test";
import { buildDockerRun, isDockerCli } from "./run-args.ts";

describe("docker run command line", () => {
  test("image and command: docker run -d --name, env passed by name", () => {
    const r = buildDockerRun(["localhost/busybox:latest", "sh", "-c", "echo {name}"], "autosentry-1234abcd", [
      "B",
      "A",
    ]);
    expect(r.argv).toEqual([
      "docker",
      "run",
      "-d",
      "--name",
      "autosentry-1234abcd",
      "-e",
      "A",
      "-e",
      "B",
      "localhost/busybox:latest",
      "sh",
      "-c",
      "echo autosentry-1234abcd",
    ]);
    expect(r.name).toBe("autosentry-1234abcd");
    expect(r.warnings).toEqual([]);
  });

  test("a user's docker run keeps its options; -d and the name are not repeated", () => {
    const r = buildDockerRun(
      [
        "docker",
        "run",
        "--detach",
        "--name",
        "trainer-{name}",
        "-v",
        "/d:/d",
        "--init",
        "img",
        "echo",
        "{name}",
        "-d",
      ],
      "autosentry-x",
      [],
    );
    expect(r.argv).toEqual([
      "docker",
      "run",
      "--detach",
      "--name=trainer-autosentry-x",
      "-v",
      "/d:/d",
      "--init",
      "img",
      "echo",
      "trainer-autosentry-x",
      "-d",
    ]);
    expect(r.name).toBe("trainer-autosentry-x");
  });

  test("the overlay wins over the command's own -e of the same variable; other -e stay", () => {
    const r = buildDockerRun(
      ["podman", "container", "run", "-e", "BATCH=64", "--env=LR=1", "-eOTHER=1", "--env", "KEEP=1", "img"],
      "n",
      ["BATCH", "LR", "OTHER"],
    );
    expect(r.argv).toEqual([
      "podman",
      "container",
      "run",
      "-d",
      "--name",
      "n",
      "-e",
      "BATCH",
      "-e",
      "LR",
      "-e",
      "OTHER",
      "--env",
      "KEEP=1",
      "img",
    ]);
  });

  test("--rm is removed and -t warned about", () => {
    const r = buildDockerRun(["docker", "run", "--rm", "-it", "img"], "n", []);
    expect(r.argv).toEqual(["docker", "run", "-d", "--name", "n", "-it", "img"]);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toContain("--rm was removed");
    expect(r.warnings[1]).toContain("merges stderr into stdout");
  });

  test("global options before run; commands that are not docker run are refused", () => {
    expect(buildDockerRun(["docker", "--context", "x", "run", "img"], "n", []).argv).toEqual([
      "docker",
      "--context",
      "x",
      "run",
      "-d",
      "--name",
      "n",
      "img",
    ]);
    expect(() => buildDockerRun(["docker", "ps"], "n", [])).toThrow("must be a `docker run");
    expect(() => buildDockerRun(["docker", "run", "-d"], "n", [])).toThrow("no image");
    expect(() => buildDockerRun([], "n", [])).toThrow("the command is empty");
  });

  test("isDockerCli", () => {
    expect(isDockerCli("/usr/local/bin/docker")).toBe(true);
    expect(isDockerCli("podman")).toBe(true);
    expect(isDockerCli("python")).toBe(false);
  });
});
