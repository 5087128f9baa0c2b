/**
 * @module
 * Commander argument parsers and collectors of the command tree. They live beside the tree (loaded
 * at every start) rather than in the commands' implementations (loaded only when one runs), so that
 * registering an option never loads a command's dependencies (issue 13).
 */
import { InvalidArgumentError } from "@commander-js/extra-typings";

/** A whole number (`-n, --limit`). */
export function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number");
  return Number(value);
}

/** A repeatable, comma-separated list (`events --kind a,b --kind c`). */
export function collectCommaList(value: string, prev: string[] | undefined): string[] {
  return [
    ...(prev ?? []),
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/** Commander collector for a repeatable `--set NAME=VALUE`. */
export function collectSet(value: string, prev: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  const name = eq > 0 ? value.slice(0, eq) : "";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new InvalidArgumentError(`expected NAME=VALUE, got '${value}'`);
  return { ...prev, [name]: value.slice(eq + 1) };
}

/** Commander collector for a repeatable option (one argv word each). */
export function collectList(value: string, prev: string[]): string[] {
  return [...prev, value];
}

/** A positive number of seconds. */
export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number of seconds");
  return n;
}

/** Seconds between screen refreshes (`watch --refresh`), at least 0.25. */
export function refreshSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.25) throw new InvalidArgumentError("expected seconds (at least 0.25)");
  return n;
}

/** A TCP port, 0-65535 (`web --port`). */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("expected a port number (0-65535)");
  return n;
}

/** A polling interval in milliseconds, at least 50 (`web --poll-ms`). */
export function pollInterval(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 50) throw new InvalidArgumentError("expected milliseconds (at least 50)");
  return n;
}
