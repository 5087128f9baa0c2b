/**
 * @module
 * The terminal side of `autosentry watch`: the alternate screen, a hidden cursor and raw input
 * while it runs, each frame drawn in place (cursor home, every line cleared to its end, the rest
 * of the screen cleared), a redraw on resize, and `q` / Ctrl-C to quit. Whatever ends it (q,
 * Ctrl-C, SIGTERM, an exception) restores the terminal as it was.
 */

export interface Screen {
  size(): { width: number; height: number };
  draw(lines: string[]): void;
  /** Resolves when the user quits (q, Q, Ctrl-C) or a SIGINT/SIGTERM arrives. */
  quit: Promise<void>;
  onResize(fn: () => void): void;
  restore(): void;
}

const ESC = "\x1b[";

/** Take over the terminal (stdout must be a TTY). */
export function openScreen(): Screen {
  const out = process.stdout;
  const stdin = process.stdin;
  let restored = false;
  let resolveQuit = () => {};
  const quit = new Promise<void>((r) => {
    resolveQuit = r;
  });
  out.write(`${ESC}?1049h${ESC}?25l${ESC}H${ESC}2J`);
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.resume();
  const onData = (b: Buffer) => {
    const s = b.toString("utf8");
    if (s.includes("q") || s.includes("Q") || s.includes("\x03")) resolveQuit();
  };
  stdin.on("data", onData);
  const onSignal = () => resolveQuit();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const resizeFns: Array<() => void> = [];
  const onResize = () => {
    for (const f of resizeFns) f();
  };
  out.on("resize", onResize);
  const restore = () => {
    if (restored) return;
    restored = true;
    stdin.off("data", onData);
    out.off("resize", onResize);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    stdin.pause();
    out.write(`${ESC}0m${ESC}?25h${ESC}?1049l`);
  };
  process.once("exit", restore);
  return {
    size: () => ({ width: out.columns || 80, height: out.rows || 24 }),
    draw(lines) {
      out.write(`${ESC}H${lines.map((l) => `${l}${ESC}K`).join("\r\n")}${ESC}J`);
    },
    quit,
    onResize: (fn) => resizeFns.push(fn),
    restore,
  };
}
