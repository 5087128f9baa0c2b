/**
 * @module
 * Launch preflight (`autosentry run --check`, and before a pipeline stage starts): the working
 * directory exists, the command and `required_executables` resolve on the child's PATH, and every
 * `required_env` variable is set and non-empty in the child's environment.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ProcessConfig } from "../config/schema.ts";
import { childEnvironment } from "../healers/env-overlay.ts";

export interface LaunchRequirements {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  requiredExecutables: string[];
  requiredEnv: string[];
  /** attach watches an existing process: there is no command to resolve. */
  checkCommand: boolean;
}

function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolve an executable name like a shell would, PATH entries relative to `cwd`. */
export function resolveExecutable(name: string, cwd: string, envPath: string | undefined): string | null {
  if (name.includes("/")) {
    const p = path.resolve(cwd, name);
    return isExecutableFile(p) ? p : null;
  }
  for (const dir of (envPath ?? "").split(":")) {
    if (!dir) continue;
    const p = path.resolve(cwd, dir, name);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

/** Every problem that would stop the launch; empty when it can go ahead. */
export function checkLaunch(req: LaunchRequirements): string[] {
  const errors: string[] = [];
  let cwdOk = false;
  try {
    const st = fs.statSync(req.cwd);
    if (!st.isDirectory()) errors.push(`Working directory is not a directory: ${req.cwd}`);
    else {
      fs.accessSync(req.cwd, fs.constants.X_OK);
      cwdOk = true;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    errors.push(
      code === "ENOENT"
        ? `Working directory does not exist: ${req.cwd}`
        : `Working directory is not accessible: ${req.cwd}`,
    );
  }
  const base = cwdOk ? req.cwd : process.cwd();
  const wanted = [
    ...(req.checkCommand && req.command[0] ? [req.command[0]] : []),
    ...req.requiredExecutables,
  ];
  if (req.checkCommand && req.command.length === 0) errors.push("process.command is empty: nothing to run");
  for (const exe of wanted) {
    if (!resolveExecutable(exe, base, req.env.PATH)) {
      errors.push(`Executable not found or not executable: '${exe}' (check PATH)`);
    }
  }
  for (const key of req.requiredEnv) {
    if (!req.env[key]) errors.push(`Required environment variable is missing or empty: ${key}`);
  }
  return errors;
}

/**
 * The launch preflight of a `process` section (the single process of `autosentry run`, or a
 * pipeline stage's scoped one): its cwd, `command` (by default its own; attach has none to check),
 * `required_executables` on the child's PATH and `required_env`, in the child's environment.
 */
export function processPreflight(
  p: ProcessConfig,
  env: Record<string, string | undefined> = process.env,
  command: string[] = p.command,
): string[] {
  return checkLaunch({
    command,
    cwd: p.cwd,
    env: childEnvironment(env, p.env, {}),
    requiredExecutables: p.required_executables,
    requiredEnv: p.required_env,
    checkCommand: p.kind !== "attach",
  });
}
