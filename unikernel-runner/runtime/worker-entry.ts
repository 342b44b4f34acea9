// Entry file of a pool worker when the runner runs from its TypeScript sources.
import { runWorker } from './worker.ts';

runWorker();
