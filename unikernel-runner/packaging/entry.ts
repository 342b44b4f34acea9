/**
 * Entry of the single-file runner bundle (dist/zgas-runner.mjs). The same file is the main thread
 * and, started again by the worker pool with a marked workerData, every worker thread. Config comes
 * from ZGAS_* variables only; nothing is written to disk.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { loadRunnerConfig } from '../server/config.ts';
import { startRunner } from '../server/main.ts';
import { isWorkerInit, runWorker } from '../runtime/worker.ts';

if (!isMainThread && isWorkerInit(workerData)) {
  runWorker();
} else {
  // The native secp256k1 binding cannot travel inside a bundle: sign with the pure-JS backend unless told otherwise.
  const env = { ...process.env, ZGAS_SIGNATURE_BACKEND: process.env.ZGAS_SIGNATURE_BACKEND || 'noble' };
  try {
    // The Swagger UI's static files do not travel inside the bundle; /docs answers the OpenAPI JSON.
    const runner = await startRunner(loadRunnerConfig(env), { docsUi: false });
    const stop = (signal: string) => {
      console.error(JSON.stringify({ msg: 'runner stopping', signal }));
      runner.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  } catch (error) {
    const details = error !== null && typeof error === 'object' ? (error as { code?: unknown; details?: unknown }) : {};
    console.error(JSON.stringify({ msg: 'runner failed to start', error: String(error), code: details.code, details: details.details }));
    process.exit(1);
  }
}
