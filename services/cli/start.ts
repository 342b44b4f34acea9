// Entry point of `npm start`: the local system (contract host, settlement API and workers, dashboard,
// one runner) on the built-in demo genesis, then the demo narrated step by step. It keeps serving
// afterwards; `npm start -- --once` exits 0 after the summary (1 if a step fails). Same as
// `zgas start`: ports are checked before any setup, and a failure is one line on stderr.
import { main } from './main.ts';

const once = process.argv.includes('--once');
await main([process.argv[0] ?? 'node', 'zgas', 'start', ...process.argv.slice(2)]);
const failed = process.exitCode !== undefined && process.exitCode !== 0;
if (failed || once) process.exit(failed ? 1 : 0);
