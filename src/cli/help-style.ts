/**
 * @module
 * One style for `--help`: every description of a command, option and argument starts with a
 * capital letter (issue 14 item 21: they mixed both). Applied to the whole tree once it is built,
 * so a command added later cannot break the rule; a test walks the tree to keep it so.
 */
import type { Command } from "commander";

/**
 * True when `text` starts with a literal that must keep its case: an identifier such as
 * `restart_with_env:` or `dispatch.mode`, or a list of values (`restart | pause | abort`).
 */
export function startsWithLiteral(text: string): boolean {
  const first = text.split(/[\s:,]/)[0] ?? "";
  return /[_./`=<>]/.test(first) || /^\S+ \| /.test(text);
}

/** `text` with its first letter upper-cased, unless it starts with a literal (empty stays empty). */
export function capitalise(text: string): string {
  if (text.length === 0 || startsWithLiteral(text)) return text;
  return text[0]!.toUpperCase() + text.slice(1);
}

/** Capitalise every description under `cmd` (commands, options, arguments, help option and command). */
export function applyHelpStyle(cmd: Command): void {
  cmd.description(capitalise(cmd.description()));
  cmd.helpOption("-h, --help", "Show help for this command");
  if (cmd.commands.length > 0) cmd.helpCommand("help [command]", "Show help for a command");
  for (const opt of cmd.options) opt.description = capitalise(opt.description);
  for (const arg of cmd.registeredArguments) arg.description = capitalise(arg.description);
  for (const sub of cmd.commands) applyHelpStyle(sub);
}

/** Every description in the tree, with where it is (for the test that keeps the style). */
export function allDescriptions(cmd: Command, at = cmd.name()): Array<{ where: string; text: string }> {
  const out = [{ where: at, text: cmd.description() }];
  for (const opt of cmd.options) out.push({ where: `${at} ${opt.flags}`, text: opt.description });
  for (const arg of cmd.registeredArguments)
    out.push({ where: `${at} <${arg.name()}>`, text: arg.description });
  for (const sub of cmd.commands) out.push(...allDescriptions(sub, `${at} ${sub.name()}`));
  return out;
}
