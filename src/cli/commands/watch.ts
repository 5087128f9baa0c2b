/**
 * @module
 * `autosentry watch [--once] [--root DIR] [--refresh SECONDS]`: a terminal dashboard of the run
 * (src/tui). On a TTY it takes the alternate screen and redraws in place when the files change, on
 * resize, and every `--refresh` seconds (for the clocks); `q` or Ctrl-C quits and restores the
 * terminal. `--once` prints one frame and exits. Not on a TTY it prints plain text: one frame with
 * `--once`, else a new frame whenever something changed. NO_COLOR (any value) turns colour off.
 */
import * as fs from "node:fs";
import { watchProject } from "../../tui/data.ts";
import { renderFrame, type WatchData } from "../../tui/frame.ts";
import { openScreen } from "../../tui/screen.ts";
import { discoverProjects, singleProject, type WebProject } from "../../web/project.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/** `watch`'s options. */
interface WatchCliOptions extends ConfigFlag {
  once?: boolean | undefined;
  root?: string | undefined;
  refresh: number;
}

/** What `autosentry watch` does (its options are declared in src/cli/tree/watch.ts). */
export async function watchCommand(opts: WatchCliOptions): Promise<void> {
  let projects: WebProject[];
  let root: string | null = null;
  if (opts.root !== undefined) {
    if (!fs.existsSync(opts.root))
      throw new CliExit(EXIT.usage, `autosentry watch: --root ${opts.root}: no such directory`);
    const found = discoverProjects(opts.root);
    for (const e of found.errors) process.stderr.write(`autosentry watch: skipped ${e}\n`);
    projects = found.projects;
    root = opts.root;
  } else {
    projects = [singleProject(loadConfigForCli(opts, { allowMissing: true }))];
  }
  const tty = Boolean(process.stdout.isTTY);
  const color = tty && !("NO_COLOR" in process.env && process.env.NO_COLOR !== undefined);
  const data = (): WatchData => ({ projects: projects.map((p) => watchProject(p)), root, now: new Date() });
  const size = () => ({ width: process.stdout.columns || 80, height: process.stdout.rows || 24 });

  if (opts.once || !tty) {
    const plain = (): string =>
      `${renderFrame(data(), { ...size(), color })
        .map((l) => l.trimEnd())
        .join("\n")
        .trimEnd()}\n`;
    process.stdout.write(plain());
    if (opts.once) return;
    // Not a terminal: a new frame whenever the files change, until SIGINT/SIGTERM.
    let stop = false;
    const done = () => {
      stop = true;
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    while (!stop) {
      await Bun.sleep(opts.refresh * 1000);
      if (projects.some((p) => p.poll().length > 0)) process.stdout.write(`\n${plain()}`);
    }
    return;
  }

  const screen = openScreen();
  try {
    const draw = () => screen.draw(renderFrame(data(), { ...screen.size(), color }));
    draw();
    screen.onResize(draw);
    const timer = setInterval(() => {
      for (const p of projects) p.poll();
      draw();
    }, opts.refresh * 1000);
    await screen.quit;
    clearInterval(timer);
  } finally {
    screen.restore();
  }
}
