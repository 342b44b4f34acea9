#!/usr/bin/env node
// The `zgas` command: help comes from a light module at once; anything else registers tsx
// (TypeScript runs directly, no build step) and runs the CLI.
import { helpFor } from './help.js';

const help = helpFor(process.argv.slice(2));
if (help !== null) process.stdout.write(help);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../services/cli/entry.ts');
}
