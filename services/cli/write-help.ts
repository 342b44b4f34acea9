// Writes bin/help.json from the commands as declared: `npm run build:help` after changing a command's flags or help.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { helpTexts } from './help-text.ts';
import { buildProgram } from './main.ts';

export const HELP_JSON = fileURLToPath(new URL('../../bin/help.json', import.meta.url));
export const helpJson = (): string => `${JSON.stringify(helpTexts(buildProgram({})), null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(HELP_JSON, helpJson());
  process.stdout.write(`wrote ${HELP_JSON}\n`);
}
