// Entry point of `npm start`: the local system (contract host, settlement API and workers, dashboard,
// one runner) on the built-in demo genesis, then the demo narrated step by step. It keeps serving
// afterwards; `npm start -- --once` exits 0 after the summary (1 if a step fails).
import { isZgasError } from '../../contracts/errors.ts';
import { startDemo } from '../demo/start.ts';

const once = process.argv.includes('--once');
try {
  await startDemo({ argv: process.argv.slice(2) });
  if (once) process.exit(0);
} catch (error) {
  const detail = isZgasError(error) ? `${error.code}: ${error.message} ${JSON.stringify(error.details)}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`zgas start failed: ${detail}\n`);
  process.exit(1);
}
