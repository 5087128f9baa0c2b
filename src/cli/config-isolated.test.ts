import { describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import { askConfigChild } from "./config-isolated.ts";

const REPO = path.resolve(import.meta.dir, "../..");

// The child is a real process (bun main.ts); on a loaded machine that takes seconds.
setDefaultTimeout(60_000);

function project(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-config-isolated-"));
  fs.mkdirSync(path.join(dir, ".autosentry"));
  fs.writeFileSync(path.join(dir, ".autosentry", "autosentry.yaml"), yaml);
  return dir;
}

describe("the monitor's config, validated in a child process", () => {
  test("a valid config comes back exactly as the in-process loader gives it, $VAR expanded", () => {
    const dir = project(
      'process:\n  command: "python train.py --lr $LR"\n  env: { TOKEN: "$LR" }\nrules:\n  - name: oom_halve_batch\n    match: { detector: exit_code }\n    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }\n',
    );
    try {
      process.env["LR"] = "0.25";
      const answer = askConfigChild({ cwd: dir, allowMissing: false });
      if (answer === null || !("ok" in answer))
        throw new Error(`expected a config: ${JSON.stringify(answer)}`);
      const here = loadConfig({ cwd: dir });
      expect(answer.ok).toEqual(here);
      expect(answer.ok.data.process.env["TOKEN"]).toBe("0.25");
    } finally {
      delete process.env["LR"];
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a broken config comes back as the same issues, file:line:col and key", () => {
    const dir = project('process:\n  command: "true"\n  restart_policy:\n    max_restarts: nope\n');
    try {
      const answer = askConfigChild({ cwd: dir, allowMissing: false });
      if (answer === null || !("issues" in answer)) throw new Error("expected issues");
      let expected = "";
      try {
        loadConfig({ cwd: dir });
      } catch (err) {
        expected = (err as ConfigError).message;
      }
      expect(new ConfigError(answer.issues).message).toBe(expected);
      expect(expected).toContain(".autosentry/autosentry.yaml:4:19: process.restart_policy.max_restarts:");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing file named with -c is reported, not defaulted", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-config-isolated-"));
    try {
      const answer = askConfigChild({ config: "nothere.yaml", cwd: dir, allowMissing: false });
      if (answer === null || !("issues" in answer)) throw new Error("expected issues");
      expect(new ConfigError(answer.issues).message).toBe("Cannot read config: nothere.yaml: file not found");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the monitor's start-up modules (issue 13: the idle footprint)", () => {
  test("`run` statically reaches neither yaml, zod nor the config loader; the __config child does", async () => {
    // The modules evaluated when `run` starts: main.ts, program.ts and commands/run.ts with everything
    // they import statically, in a build split as `npm run build` splits it.
    const built = await Bun.build({
      entrypoints: [path.join(REPO, "main.ts")],
      root: REPO,
      splitting: true,
      target: "bun",
      format: "esm",
      metafile: true,
    });
    expect(built.success).toBe(true);
    const outputs = built.metafile?.outputs ?? {};
    const byName = new Map(Object.entries(outputs).map(([k, o]) => [path.basename(k), o]));
    const entry = (file: string) => {
      const hit = Object.values(outputs).find((o) => o.entryPoint?.endsWith(file));
      if (!hit) throw new Error(`no chunk for ${file}`);
      return hit;
    };
    const reached = (roots: string[]): Set<string> => {
      const inputs = new Set<string>();
      const seen = new Set<object>();
      const stack = roots.map(entry);
      while (stack.length > 0) {
        const o = stack.pop()!;
        if (seen.has(o)) continue;
        seen.add(o);
        for (const i of Object.keys(o.inputs)) inputs.add(i);
        for (const imp of o.imports) {
          const next = byName.get(path.basename(imp.path));
          if (imp.kind === "import-statement" && next) stack.push(next);
        }
      }
      return inputs;
    };
    const heavy = (inputs: Set<string>) =>
      [...inputs].filter((i) =>
        /node_modules\/(yaml|zod)\/|src\/config\/(load|schema|yaml-source)\.ts$/.test(i),
      );
    const run = reached(["main.ts", "src/cli/program.ts", "src/cli/commands/run.ts"]);
    expect([...run].some((i) => i.endsWith("src/monitor/build.ts"))).toBe(true);
    expect(heavy(run)).toEqual([]);
    // The child that validates for it reaches them (so the check above looks at the right graph).
    expect(heavy(reached(["src/config/load.ts"])).length).toBeGreaterThan(0);
  });
});
