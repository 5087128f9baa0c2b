/**
 * @module
 * The name of the account this process runs as, for "who paused it" in the journal and status.
 * Bun's `os.userInfo().username` reads `$USER` and says `unknown` without it (cron, systemd, a
 * SLURM prolog, `env -i`), so the account database is asked by uid instead.
 */
import * as fs from "node:fs";

let cached: string | undefined;

/** `$USER`, else `$LOGNAME`, else the uid's entry in /etc/passwd, else `uid N`. */
export function accountName(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.USER || env.LOGNAME;
  if (fromEnv) return fromEnv;
  if (cached === undefined)
    cached = passwdName(process.getuid?.() ?? -1) ?? `uid ${process.getuid?.() ?? "?"}`;
  return cached;
}

/** The login name of `uid` in an /etc/passwd-format text (default: the file), or null. */
export function passwdName(uid: number, text?: string): string | null {
  let passwd = text;
  if (passwd === undefined) {
    try {
      passwd = fs.readFileSync("/etc/passwd", "utf8");
    } catch {
      return null;
    }
  }
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && Number(f[2]) === uid && f[0]) return f[0];
  }
  return null;
}
