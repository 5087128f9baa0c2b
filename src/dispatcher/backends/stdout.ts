/**
 * @module
 * `stdout`: prints each message (`[<channel or ->] <summary>`, then the detail lines indented).
 * Useful under tmux, in CI logs, and to see what would be sent. Never reads replies.
 */
import type { Backend, Outgoing, Posted } from "../types.ts";

export class StdoutBackend implements Backend {
  readonly name = "stdout" as const;
  readonly platform = null;
  readonly inbound = false;
  readonly threads = false;
  constructor(private readonly write: (s: string) => void = (s) => process.stdout.write(s)) {}

  async post(m: Outgoing): Promise<Posted> {
    const head = `[${m.channel ?? "-"}] ${m.message.summary}`;
    const rest = [...m.message.detail, ...(m.message.url ? [m.message.url] : [])].map((l) => `  ${l}`);
    this.write(`${[head, ...rest].join("\n")}\n`);
    return { id: "-", thread: null };
  }
}
