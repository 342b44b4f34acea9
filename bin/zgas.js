#!/usr/bin/env node
// The `zgas` command: registers tsx (TypeScript runs directly, no build step) and runs the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../services/cli/entry.ts');
