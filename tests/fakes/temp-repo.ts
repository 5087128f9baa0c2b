/**
 * @module
 * Real git repositories in temporary directories, for tests of code that works on a user's repo.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Run git synchronously in `cwd`; throws with git's stderr when it fails. */
export function git(cwd: string, ...args: string[]): string {
  const r = Bun.spawnSync(["git", ...args], {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Test User",
      GIT_AUTHOR_EMAIL: "user@example.com",
      GIT_COMMITTER_NAME: "Test User",
      GIT_COMMITTER_EMAIL: "user@example.com",
      GIT_CONFIG_NOSYSTEM: "1",
      HOME: cwd,
    },
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

export interface RepoState {
  head: string;
  index: string;
  refs: Record<string, string>;
  stash: string;
}

export interface TempRepo {
  dir: string;
  write(rel: string, content: string | Uint8Array): void;
  read(rel: string): string;
  exists(rel: string): boolean;
  git(...args: string[]): string;
  /** Commit everything currently in the tree (as the user would). */
  commitAll(message: string): string;
  /** .git/index bytes, HEAD, every ref and the stash, to prove which of them changed. */
  state(): RepoState;
  /** Every file of the work tree (not .git) with its bytes, base64. */
  files(): Record<string, string>;
  remove(): void;
}

/** A repository with `files` committed on branch `main`. */
export function makeTempRepo(files: Record<string, string> = {}): TempRepo {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-repo-")));
  const repo: TempRepo = {
    dir,
    write(rel, content) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    },
    read: (rel) => fs.readFileSync(path.join(dir, rel), "utf8"),
    exists: (rel) => fs.existsSync(path.join(dir, rel)),
    git: (...args) => git(dir, ...args),
    commitAll(message) {
      git(dir, "add", "-A");
      git(dir, "commit", "-q", "--no-gpg-sign", "-m", message);
      return git(dir, "rev-parse", "HEAD").trim();
    },
    state() {
      const indexFile = path.join(dir, ".git/index");
      const index = fs.existsSync(indexFile)
        ? Buffer.from(fs.readFileSync(indexFile)).toString("base64")
        : "";
      const refs: Record<string, string> = {};
      for (const line of git(dir, "for-each-ref", "--format=%(refname) %(objectname)").split("\n")) {
        const [name, oid] = line.split(" ");
        if (name && oid) refs[name] = oid;
      }
      const head = fs.readFileSync(path.join(dir, ".git/HEAD"), "utf8");
      const stashed = git(dir, "stash", "list");
      return { head, index, refs, stash: stashed };
    },
    files() {
      const out: Record<string, string> = {};
      const walk = (rel: string): void => {
        for (const ent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
          const r = rel ? `${rel}/${ent.name}` : ent.name;
          if (r === ".git") continue;
          if (ent.isDirectory()) walk(r);
          else if (ent.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(path.join(dir, r))}`;
          else out[r] = Buffer.from(fs.readFileSync(path.join(dir, r))).toString("base64");
        }
      };
      walk("");
      return out;
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "commit.gpgsign", "false");
  for (const [rel, content] of Object.entries(files)) repo.write(rel, content);
  if (Object.keys(files).length > 0) repo.commitAll("initial");
  return repo;
}
