/**
 * @module
 * `autosentry init [TARGET]`: scaffold `.autosentry/` (config from the template, its JSON Schema,
 * the recovery prompt, incidents/ and logs/, a `.gitignore` of `*`).
 *
 * It never overwrites a customised config: only `--force` does that, and `--upgrade` adds the
 * template's new keys to it instead, keeping the user's values and comments. A config that is
 * exactly what init would write is left alone. (The Python tool's interactive re-init defaulted to
 * overwriting, inventory §6 item 38.)
 *
 * A config that differs from the template only in what init fills in (the command and the
 * snapshots) is init's own output, not a customisation: init may replace it, and leaves it alone
 * when asked nothing new (issue 14 item 19). A refusal is a usage error (exit 2).
 *
 * `--upgrade` also sets keys still at an old default to today's (src/config/past-defaults.ts).
 * `--for-agent` adds `.autosentry/AGENT_NOTES.md` and `.autosentry/program.md` (never overwritten);
 * `--install-skills local|global` runs `autosentry skills install` for every tool (`ask`, the
 * default, asks only on a terminal).
 *
 * Snapshots: only files that exist are suggested (issue 14 item 1). Without questions, init fills
 * in the run configs it finds (configs/run.yaml, configs/train.yaml, config.yaml) and never .env.
 *
 * Interactive mode (stdin and stdout are terminals, or `--interactive`) suggests a command for the
 * detected stack and offers the usual config files as incident snapshots. `--interactive` reads the
 * answers line by line from stdin even when it is a pipe, which is how tests drive it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { configJsonSchema } from "../../config/json-schema.ts";
import { parseConfigText } from "../../config/load.ts";
import { refreshPastDefaults } from "../../config/past-defaults.ts";
import { CONFIG_DIR, CONFIG_FILE, LEGACY_CONFIG_FILE } from "../../config/paths.ts";
import { splitShellWords } from "../../config/schema.ts";
import {
  CONFIG_TEMPLATE,
  RECOVERY_PROMPT_TEMPLATE,
  renderConfigTemplate,
  type TemplateAnswers,
  upgradeConfigText,
} from "../../config/template.ts";
import { TOOLS } from "../../skills/catalog.ts";
import { AGENT_NOTES_TEMPLATE, PROGRAM_TEMPLATE, SKILL_NAMES } from "../../skills/texts.ts";
import { writeFileAtomicSync } from "../../util/atomic-write.ts";
import { EXIT } from "../exit.ts";
import { runSkillsInstall } from "./skills.ts";

export interface InitOptions {
  /** Project directory, relative to `cwd`. */
  target: string;
  force: boolean;
  upgrade: boolean;
  interactive: boolean;
  nonInteractive: boolean;
  /** `process.command` as a command line. */
  command?: string | undefined;
  /** Write AGENT_NOTES.md and program.md. */
  forAgent?: boolean;
  /** `ask` (default: only when interactive), `none`, `local` or `global`. */
  installSkills?: "ask" | "none" | "local" | "global";
  /** The environment (HOME for global skills); default process.env. */
  env?: Record<string, string | undefined>;
}

export interface InitIO {
  cwd: string;
  /** Where interactive answers come from (one per line). */
  input: () => ReadableStream<Uint8Array>;
  /** Whether stdin and stdout are terminals. */
  isTTY: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Files offered as incident snapshots in interactive mode, when they exist. */
export const SNAPSHOT_CANDIDATES = [
  ".env",
  "configs/run.yaml",
  "configs/train.yaml",
  "config.yaml",
  "pyproject.toml",
  "package.json",
] as const;

/** Candidates filled in without asking: the run's own configs. Never .env (secrets) nor package metadata. */
export const AUTO_SNAPSHOTS = ["configs/run.yaml", "configs/train.yaml", "config.yaml"] as const;

/** The snapshots init fills in for `root` without asking (those of {@link AUTO_SNAPSHOTS} that exist). */
export function autoSnapshots(root: string): string[] | undefined {
  const found = AUTO_SNAPSHOTS.filter((f) => isFile(path.join(root, f)));
  return found.length > 0 ? found : undefined;
}

/** The answers a config text holds, when it has the template's shape. */
function answersOf(text: string): TemplateAnswers | null {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return null;
  const js = doc.toJS() as { process?: { command?: unknown }; config_snapshots?: unknown } | null;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
  const command = js?.process?.command;
  const snaps = js?.config_snapshots;
  if (!strings(command) || !strings(snaps)) return null;
  return {
    command: command as string[],
    snapshots: (snaps as string[]).length > 0 ? (snaps as string[]) : undefined,
  };
}

/** True when `text` is the template with only init's answers filled in (not customised). */
export function writtenByInit(text: string): boolean {
  if (text === CONFIG_TEMPLATE) return true;
  const a = answersOf(text);
  return a !== null && renderConfigTemplate(a) === text;
}

/** `init`'s options, as commander gives them. */
interface InitCliOptions {
  force?: boolean | undefined;
  upgrade?: boolean | undefined;
  nonInteractive?: boolean | undefined;
  interactive?: boolean | undefined;
  command?: string | undefined;
  forAgent?: boolean | undefined;
  installSkills: string;
}

/** What `autosentry init` does (its options are declared in src/cli/tree/init.ts). */
export async function initCommand(target: string, opts: InitCliOptions): Promise<void> {
  const code = await runInit(
    {
      target,
      force: opts.force === true,
      upgrade: opts.upgrade === true,
      interactive: opts.interactive === true,
      nonInteractive: opts.nonInteractive === true,
      command: opts.command,
      forAgent: opts.forAgent === true,
      installSkills: opts.installSkills as InitOptions["installSkills"],
    },
    {
      cwd: process.cwd(),
      input: () => Bun.stdin.stream(),
      isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      out: (s) => process.stdout.write(s),
      err: (s) => process.stderr.write(s),
    },
  );
  if (code !== 0) process.exitCode = code;
}

/** Run `init`; resolves to the exit code. */
export async function runInit(opts: InitOptions, io: InitIO): Promise<number> {
  const fail = (code: number, msg: string) => {
    io.err(`autosentry init: ${msg}\n`);
    return code;
  };
  if (opts.interactive && opts.nonInteractive) {
    return fail(EXIT.usage, "--interactive and --non-interactive cannot be used together");
  }
  const skillsScope = opts.installSkills ?? "ask";
  if (!["ask", "none", "local", "global"].includes(skillsScope)) {
    return fail(EXIT.usage, `--install-skills: expected ask, none, local or global (got "${skillsScope}")`);
  }
  const root = path.resolve(io.cwd, opts.target);
  if (!isDir(root)) return fail(EXIT.usage, `Cannot init: ${opts.target}: no such directory`);
  let command: string[] | undefined;
  if (opts.command !== undefined) {
    command = splitShellWords(opts.command);
    if (command.length === 0) return fail(EXIT.usage, "--command: the command is empty");
  }
  const interactive = opts.interactive || (!opts.nonInteractive && io.isTTY);
  const dir = path.join(root, CONFIG_DIR);
  const cfgPath = path.join(dir, CONFIG_FILE);
  const legacyPath = path.join(root, LEGACY_CONFIG_FILE);
  const show = (p: string) => {
    const rel = path.relative(io.cwd, p);
    return rel && !rel.startsWith("..") ? rel : p;
  };
  const existing = readText(cfgPath);
  const legacy = existing === null && isFile(legacyPath);
  const notes: string[] = [];

  // What to do with the config file itself.
  let plan: "write" | "keep" | "keep-init" | "upgrade" | "migrate";
  if (legacy) {
    if (opts.upgrade) plan = "migrate";
    else if (opts.force) {
      plan = "write";
      notes.push(
        `${show(legacyPath)} is now ignored (${show(cfgPath)} takes precedence); delete it when you are done with it`,
      );
    } else {
      return fail(
        EXIT.usage,
        `Cannot init: found the legacy ${show(legacyPath)}: run \`autosentry init --upgrade\` to move it into ${CONFIG_DIR}/ (adding new keys), or --force to start from the template`,
      );
    }
  } else if (existing !== null) {
    if (opts.upgrade) plan = "upgrade";
    else if (opts.force) plan = "write";
    else if (writtenByInit(existing)) {
      // init's own output: replacing it loses nothing, but without a new answer there is nothing to do.
      const mine = answersOf(existing);
      const wanted = renderConfigTemplate({
        command: command ?? mine?.command,
        snapshots: mine?.snapshots ?? autoSnapshots(root),
      });
      if (interactive || (command !== undefined && wanted !== existing)) plan = "write";
      else plan = existing === wanted ? "keep" : "keep-init";
    } else {
      return fail(
        EXIT.usage,
        `Cannot init: ${show(cfgPath)} already exists and has been customised: run with --upgrade to add new keys to it, or --force to overwrite it`,
      );
    }
  } else {
    plan = "write";
  }

  let wrote: string;
  let skillsAnswer: "local" | "global" | "none" = skillsScope === "ask" ? "none" : skillsScope;
  if (plan === "keep") {
    wrote = `${show(cfgPath)} is already what init would write: left alone`;
  } else if (plan === "keep-init") {
    wrote = `${show(cfgPath)} is as init wrote it: left alone (--command changes the command)`;
  } else if (plan === "upgrade" || plan === "migrate") {
    if (plan === "migrate") {
      fs.mkdirSync(dir, { recursive: true });
      fs.renameSync(legacyPath, cfgPath);
      notes.push(`moved ${show(legacyPath)} to ${show(cfgPath)}`);
    }
    const current = readText(cfgPath) ?? "";
    let result: { text: string; added: string[] };
    let refreshed: ReturnType<typeof refreshPastDefaults>["refreshed"];
    try {
      result = upgradeConfigText(current);
      let only: Set<string> | undefined;
      if (interactive) {
        // As the Python tool did: each refresh is confirmed on a terminal (y, n, or a = all).
        const candidates = refreshPastDefaults(result.text).refreshed;
        if (candidates.length > 0) only = await confirmRefreshes(candidates, io);
      }
      const r = refreshPastDefaults(result.text, undefined, only);
      result.text = r.text;
      refreshed = r.refreshed;
    } catch (err) {
      return fail(EXIT.usage, `Cannot upgrade ${show(cfgPath)}: ${(err as Error).message}`);
    }
    if (result.added.length === 0 && refreshed.length === 0) {
      wrote = `${show(cfgPath)} already has every key of the template: left alone`;
    } else {
      writeFileAtomicSync(cfgPath, result.text);
      const parts: string[] = [];
      if (result.added.length > 0) parts.push(`added ${result.added.join(", ")}`);
      if (refreshed.length > 0)
        parts.push(
          `refreshed old defaults ${refreshed.map((r) => `${r.key} ${JSON.stringify(r.from)} → ${JSON.stringify(r.to)}`).join(", ")}`,
        );
      wrote = `upgraded ${show(cfgPath)}: ${parts.join("; ")}`;
      if (refreshed.length > 0)
        notes.push("a refreshed value was the old default, not your choice; set it back if you meant it");
    }
  } else {
    const answers: TemplateAnswers = { command, snapshots: autoSnapshots(root) };
    if (interactive) {
      const asked = await askQuestions(root, command, skillsScope === "ask", io);
      Object.assign(answers, asked.answers);
      if (asked.skills) skillsAnswer = asked.skills;
    }
    const text = renderConfigTemplate(answers);
    const invalid = checkRendered(text, cfgPath, root);
    if (invalid) return fail(EXIT.failure, invalid);
    if (existing === text) wrote = `${show(cfgPath)} is already what init would write: left alone`;
    else {
      writeFileAtomicSync(cfgPath, text);
      wrote = `${existing === null ? "wrote" : "overwrote"} ${show(cfgPath)}`;
    }
  }

  const created = scaffold(dir, opts.forAgent === true);
  io.out(`autosentry init: ${wrote}\n`);
  if (created.length > 0) io.out(`  created ${created.map((f) => `${CONFIG_DIR}/${f}`).join(", ")}\n`);
  for (const n of notes) io.out(`  note: ${n}\n`);
  if (skillsAnswer !== "none") {
    const rows = runSkillsInstall(
      { tools: TOOLS, skills: SKILL_NAMES, scope: skillsAnswer, target: root, force: false },
      opts.env ?? process.env,
    );
    const count = (pred: (r: string) => boolean) => rows.filter((r) => pred(r.result)).length;
    io.out(
      `  skills (${skillsAnswer}): ${count((r) => ["created", "updated", "merged"].includes(r))} written, ${count((r) => r === "unchanged")} unchanged, ${count((r) => r.startsWith("skipped"))} skipped (autosentry skills list shows them)\n`,
    );
  }
  io.out(nextSteps(root, io.cwd, show(cfgPath)));
  return EXIT.ok;
}

/** The rendered template must load; if it does not, that is a bug in init, said plainly. */
function checkRendered(text: string, cfgPath: string, root: string): string | null {
  // Any $VAR in an answer is for the run's environment, not this one: check structure only.
  const anyEnv = new Proxy({}, { get: () => "x" }) as Record<string, string>;
  try {
    parseConfigText(text, { file: cfgPath, root, env: anyEnv });
    return null;
  } catch (err) {
    return `the config to write does not load (please report this):\n${(err as Error).message}`;
  }
}

/** Create the directories and files around the config; returns what was created. */
function scaffold(dir: string, forAgent: boolean): string[] {
  const created: string[] = [];
  for (const sub of ["incidents", "logs", "prompts"]) {
    const p = path.join(dir, sub);
    if (!isDir(p)) {
      fs.mkdirSync(p, { recursive: true });
      if (sub !== "prompts") created.push(`${sub}/`);
    }
  }
  const files: [string, string][] = [
    ["prompts/recovery.md", RECOVERY_PROMPT_TEMPLATE],
    [".gitignore", "*\n"],
  ];
  if (forAgent) files.push(["AGENT_NOTES.md", AGENT_NOTES_TEMPLATE], ["program.md", PROGRAM_TEMPLATE]);
  for (const [rel, content] of files) {
    const p = path.join(dir, rel);
    if (!fs.existsSync(p)) {
      writeFileAtomicSync(p, content);
      created.push(rel);
    }
  }
  // The schema always matches this binary, so it is rewritten every time.
  const schemaPath = path.join(dir, "autosentry.schema.json");
  const hadSchema = fs.existsSync(schemaPath);
  writeFileAtomicSync(schemaPath, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  if (!hadSchema) created.push("autosentry.schema.json");
  return created;
}

function nextSteps(root: string, cwd: string, cfgShown: string): string {
  const steps: string[] = [];
  if (path.resolve(root) !== path.resolve(cwd)) steps.push(`cd ${path.relative(cwd, root) || "."}`);
  steps.push(
    `Review ${cfgShown}: check process.command and adapt detectors and rules to your job`,
    "autosentry config validate      check the config",
    "autosentry run --check          check that the command can start",
    "autosentry run                  supervise it",
  );
  return `\nNext steps:\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// interactive questions

/** A stack autosentry recognises from a marker file, with the command it suggests. */
export interface DetectedStack {
  name: string;
  marker: string;
  command: string;
}

/** Guess the project's stack from marker files in `root`. */
export function detectStack(root: string): DetectedStack | null {
  const has = (f: string) => fs.existsSync(path.join(root, f));
  for (const marker of ["pyproject.toml", "setup.py"]) {
    if (has(marker)) {
      const script = ["train.py", "main.py", "run.py", "app.py"].find(has) ?? "train.py";
      return { name: "Python", marker, command: `python ${script}` };
    }
  }
  if (has("package.json")) return { name: "Node.js", marker: "package.json", command: "npm start" };
  if (has("Cargo.toml")) return { name: "Rust", marker: "Cargo.toml", command: "cargo run" };
  if (has("go.mod")) return { name: "Go", marker: "go.mod", command: "go run ." };
  if (has("Gemfile")) {
    const rails = has("bin/rails") || has("config/application.rb");
    return {
      name: "Ruby",
      marker: "Gemfile",
      command: rails ? "bundle exec rails server" : "bundle exec rake",
    };
  }
  return null;
}

async function askQuestions(
  root: string,
  command: string[] | undefined,
  askSkills: boolean,
  io: InitIO,
): Promise<{ answers: TemplateAnswers; skills: "local" | "global" | "none" | null }> {
  let skills: "local" | "global" | "none" | null = null;
  const reader = new LineReader(io.input());
  const ask = async (question: string): Promise<string> => {
    io.out(question);
    const line = await reader.next();
    // Without a terminal the answer is not echoed; print it so the transcript reads right.
    if (!io.isTTY) io.out(`${line ?? ""}\n`);
    return (line ?? "").trim();
  };
  const answers: TemplateAnswers = {};
  try {
    io.out(`Setting up autosentry in ${root}\n`);
    if (command === undefined) {
      const stack = detectStack(root);
      const suggestion = stack?.command ?? "python train.py";
      if (stack) io.out(`Detected a ${stack.name} project (${stack.marker}).\n`);
      const answer = await ask(`Command to supervise [${suggestion}]: `);
      const words = splitShellWords(answer);
      answers.command = words.length > 0 ? words : splitShellWords(suggestion);
    }
    const snapshots: string[] = [];
    for (const candidate of SNAPSHOT_CANDIDATES) {
      if (!fs.existsSync(path.join(root, candidate))) continue;
      const why =
        candidate === ".env"
          ? " It usually holds secrets: snapshots are redacted, but only secrets of known shapes are caught."
          : "";
      const answer = await ask(`Copy ${candidate} (redacted) into every incident?${why} [y/N]: `);
      if (/^y(es)?$/i.test(answer)) snapshots.push(candidate);
    }
    answers.snapshots = snapshots;
    if (askSkills) {
      const answer = await ask(
        "Install the /autosentry skills for coding agents (Claude Code, Codex, Cursor, ...)? [local/global/N]: ",
      );
      skills = /^l(ocal)?$/i.test(answer) ? "local" : /^g(lobal)?$/i.test(answer) ? "global" : "none";
    }
  } finally {
    await reader.close();
  }
  return { answers, skills };
}

/** Ask about each value still at an old default; returns the keys to refresh. */
async function confirmRefreshes(
  candidates: Array<{ key: string; from: unknown; to: unknown }>,
  io: InitIO,
): Promise<Set<string>> {
  const reader = new LineReader(io.input());
  const yes = new Set<string>();
  let all = false;
  try {
    for (const c of candidates) {
      if (all) {
        yes.add(c.key);
        continue;
      }
      io.out(
        `${c.key} is ${JSON.stringify(c.from)}, an old default; the default is now ${JSON.stringify(c.to)}. Refresh it? [Y/n/a]: `,
      );
      const line = ((await reader.next()) ?? "").trim();
      if (!io.isTTY) io.out(`${line}\n`);
      if (/^a(ll)?$/i.test(line)) all = true;
      if (all || line === "" || /^y(es)?$/i.test(line)) yes.add(c.key);
    }
  } finally {
    await reader.close();
  }
  return yes;
}

/** Reads a byte stream one line at a time, only as far as it is asked to. */
class LineReader {
  private buf = "";
  private done = false;
  private readonly decoder = new TextDecoder();
  private readonly reader: {
    read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
    cancel(): Promise<void>;
  };

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** The next line without its terminator, or null at the end of the input. */
  async next(): Promise<string | null> {
    for (;;) {
      const nl = this.buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.buf.slice(0, nl).replace(/\r$/, "");
        this.buf = this.buf.slice(nl + 1);
        return line;
      }
      if (this.done) {
        if (this.buf === "") return null;
        const rest = this.buf;
        this.buf = "";
        return rest;
      }
      const { value, done } = await this.reader.read();
      if (done) {
        this.done = true;
        this.buf += this.decoder.decode(new Uint8Array(0));
      } else {
        this.buf += this.decoder.decode(value, { stream: true });
      }
    }
  }

  async close(): Promise<void> {
    try {
      await this.reader.cancel();
    } catch {
      // Already closed.
    }
  }
}

function readText(p: string): string | null {
  try {
    return fs.readFileSync(p, "utf8");
  } catch {
    return null;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
