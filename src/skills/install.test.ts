import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { scratchDirs } from "../../tests/support/cli.ts";
import { markers, removeBlock, upsertBlock } from "./blocks.ts";
import { destinations, type Places, TOOLS } from "./catalog.ts";
import { installedState, installSkills } from "./install.ts";
import { SKILL_BODIES, SKILL_NAMES } from "./texts.ts";

const tempDir = scratchDirs("autosentry-skills-");

function places(): Places {
  const root = tempDir();
  fs.mkdirSync(path.join(root, "p"));
  fs.mkdirSync(path.join(root, "h"));
  return {
    target: path.join(root, "p"),
    home: path.join(root, "h"),
    xdgConfig: path.join(root, "h", ".config"),
  };
}

/** Every file under `dir` with its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

const all = { tools: TOOLS, skills: SKILL_NAMES, force: false };

describe("skills install", () => {
  test("every tool, both scopes: the second run changes no byte and reports unchanged", () => {
    const p = places();
    for (const scope of ["local", "global"] as const) {
      const first = installSkills({ ...all, scope }, p);
      expect(first.filter((r) => r.result === "created").length).toBeGreaterThan(10);
      const before = { ...snapshot(p.target), ...snapshot(p.home) };
      const second = installSkills({ ...all, scope }, p);
      expect(second.every((r) => ["unchanged", "skipped_no_global"].includes(r.result))).toBe(true);
      expect({ ...snapshot(p.target), ...snapshot(p.home) }).toEqual(before);
    }
    // Local files stay in the project, global ones in the home directory.
    expect(Object.keys(snapshot(p.target))).toContain(".claude/commands/autosentry.md");
    expect(Object.keys(snapshot(p.home))).toContain(".config/opencode/command/autosentry.md");
    expect(Object.keys(snapshot(p.home))).not.toContain("AGENTS.md");
  });

  test("a shared file keeps the user's text; our block is appended once and replaced in place", () => {
    const p = places();
    const mine = "# House rules\n\nUse tabs.\n";
    fs.writeFileSync(path.join(p.target, "AGENTS.md"), mine);
    const r = installSkills({ tools: ["agents"], skills: ["autosentry"], scope: "local", force: false }, p);
    expect(r[0]!.result).toBe("merged");
    const text = fs.readFileSync(path.join(p.target, "AGENTS.md"), "utf8");
    expect(text.startsWith(mine)).toBe(true);
    expect(text).toContain(markers("html").begin);
    // The user adds text after our block; an outdated block is replaced, their text stays.
    const old = text.replace("Phase 1: install", "Phase 1: old words");
    fs.writeFileSync(path.join(p.target, "AGENTS.md"), `${old}\nMore of mine.\n`);
    const d = destinations("agents", "autosentry", "local", p)[0]!;
    expect(installedState(d)).toBe("outdated");
    const again = installSkills(
      { tools: ["agents"], skills: ["autosentry"], scope: "local", force: false },
      p,
    );
    expect(again[0]!.result).toBe("updated");
    expect(fs.readFileSync(path.join(p.target, "AGENTS.md"), "utf8")).toBe(`${text}\nMore of mine.\n`);
    expect(installedState(d)).toBe("installed");
  });

  test("a command file the user wrote under our name is left alone; --force adds our block to it", () => {
    const p = places();
    const file = path.join(p.target, ".claude", "commands", "autosentry.md");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "my own command\n");
    const req = { tools: ["claude"] as const, skills: ["autosentry"] as const, scope: "local" as const };
    const r = installSkills({ ...req, force: false }, p);
    expect(r.find((x) => x.file === file)!.result).toBe("skipped_exists");
    expect(fs.readFileSync(file, "utf8")).toBe("my own command\n");
    const f = installSkills({ ...req, force: true }, p);
    expect(f.find((x) => x.file === file)!.result).toBe("merged");
    const text = fs.readFileSync(file, "utf8");
    expect(text.startsWith("my own command\n")).toBe(true);
    expect(text).toContain(SKILL_BODIES.autosentry.split("\n")[0]!);
  });

  test("edits to a command file's frontmatter survive a reinstall", () => {
    const p = places();
    const req = {
      tools: ["cursor"] as const,
      skills: ["autosentry"] as const,
      scope: "local" as const,
      force: false,
    };
    installSkills(req, p);
    const file = path.join(p.target, ".cursor", "commands", "autosentry.md");
    const edited = fs.readFileSync(file, "utf8").replace('description: "', 'description: "MINE ');
    fs.writeFileSync(file, edited);
    expect(installSkills(req, p)[0]!.result).toBe("unchanged");
    expect(fs.readFileSync(file, "utf8")).toBe(edited);
  });

  test("aider: read: gains AGENTS.md, the user's comments and entries stay; bad YAML is left alone", () => {
    const p = places();
    const conf = path.join(p.target, ".aider.conf.yml");
    fs.writeFileSync(conf, "# my aider\nmodel: sonnet # best\nread:\n  - CONVENTIONS.md\n");
    const req = {
      tools: ["aider"] as const,
      skills: ["autosentry"] as const,
      scope: "local" as const,
      force: false,
    };
    const r = installSkills(req, p);
    expect(r.map((x) => x.result)).toEqual(["created", "merged"]);
    expect(fs.readFileSync(conf, "utf8")).toBe(
      "# my aider\nmodel: sonnet # best\nread:\n  - CONVENTIONS.md\n  - AGENTS.md\n",
    );
    expect(installSkills(req, p).map((x) => x.result)).toEqual(["unchanged", "unchanged"]);
    fs.writeFileSync(conf, "read: [\n");
    expect(installSkills(req, p)[1]!.result).toBe("skipped_unreadable");
    expect(fs.readFileSync(conf, "utf8")).toBe("read: [\n");
  });

  test("gemini commands are TOML with the playbook as a literal string", () => {
    const p = places();
    installSkills({ tools: ["gemini"], skills: ["autosentry"], scope: "global", force: false }, p);
    const text = fs.readFileSync(path.join(p.home, ".gemini", "commands", "autosentry.toml"), "utf8");
    expect(text).toContain('description = "Operate autosentry');
    expect(text).toContain(`prompt = '''\n${SKILL_BODIES.autosentry}'''`);
  });
});

describe("blocks", () => {
  test("upsert then remove gives the user's text back", () => {
    const mine = "a\nb\n";
    const withBlock = upsertBlock(mine, "ours\n", "hash");
    expect(withBlock).toBe(`a\nb\n\n${markers("hash").begin}\nours\n${markers("hash").end}\n`);
    expect(upsertBlock(withBlock, "ours\n", "hash")).toBe(withBlock);
    expect(removeBlock(withBlock, "hash")).toBe(mine);
  });
});
