// `zgas [command…] --help` and `zgas help [command…]` answered from bin/help.json, which
// `npm run build:help` writes from the commands' declarations: the help prints without starting the
// TypeScript loader or loading any of zgas. Imports node built-ins only.
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';

/** The help text for these arguments, or null when they ask for more than help. */
export function helpFor(args) {
  let path;
  if (args.length > 0 && (args.at(-1) === '--help' || args.at(-1) === '-h')) path = args.slice(0, -1);
  else if (args[0] === 'help') path = args.slice(1);
  else return null;
  if (path.some((word) => word.startsWith('-'))) return null;
  const texts = JSON.parse(readFileSync(new URL('./help.json', import.meta.url), 'utf8'));
  return Object.hasOwn(texts, path.join(' ')) ? texts[path.join(' ')] : null;
}
