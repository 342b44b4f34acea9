/**
 * The help of every `zgas` command as text, keyed by its command path ('' for `zgas` itself,
 * 'session call' for `zgas session call`). `bin/help.json` holds it, written by `npm run build:help`,
 * so `bin/zgas.js` prints `--help` without starting the TypeScript loader; a test keeps the file
 * equal to what the commands declare.
 */
import type { Command } from 'commander';

/** The width the help is wrapped at (commander's own when the output is not a terminal). */
export const HELP_WIDTH = 80;

/** What `zgas <path> --help` prints, for every command of the program. */
export function helpTexts(program: Command): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (cmd: Command, path: string[]): void => {
    let text = '';
    cmd.configureOutput({ writeOut: (s) => { text += s; }, writeErr: (s) => { text += s; }, getOutHelpWidth: () => HELP_WIDTH, getOutHasColors: () => false });
    cmd.outputHelp();
    out[path.join(' ')] = text;
    for (const sub of cmd.commands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return out;
}
