/**
 * The runner's public surface: metering, the deterministic runtime (executor, worker pool,
 * re-executor, sessions), the runner HTTP server with its ledger port, and the example zApps.
 */
export * from './metering/index.ts';

export { EMPTY_OUTPUT_HASH, executeCall, MAX_INPUT_BYTES, MAX_OUTPUT_BYTES } from './runtime/execute.ts';
export type { CallOutcome, CallRequest, PreparedModule } from './runtime/execute.ts';
export { effectsGas, GuestTrap, hostFunctions, price, StateView } from './runtime/host.ts';
export type { HostContext, HostPrices } from './runtime/host.ts';
export { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_QUEUE_LIMIT, defaultSpawn, MAX_POOL_SIZE, WorkerPool } from './runtime/pool.ts';
export type { CallJob, PoolOptions, PoolOutcome, SubmittedCall } from './runtime/pool.ts';
export { hostPrices, MAX_CACHED_MODULES, prepareModule } from './runtime/prepare.ts';
export { createReexecutor } from './runtime/reexecutor.ts';
export { applyWrites, MAX_RUNNER_SESSIONS, receiptFor, restoreSession, SessionBook } from './runtime/sessions.ts';
export { FileSessionLog, MemorySessionLog } from './runtime/session-log.ts';
export type { LoggedCall, LoggedSession, SessionLog } from './runtime/session-log.ts';
export type { RunnerSession } from './runtime/sessions.ts';
export {
  decodeStateBytes, EMPTY_STATE, encodeStateBytes, hashState, MAX_STATE_BYTES, MAX_STATE_ENTRIES, MAX_STATE_VALUE_BYTES, MAX_WRITES_PER_CALL, stateEntries, stateFromEntries,
} from './runtime/state.ts';
export type { State } from './runtime/state.ts';
export { isWorkerInit, runWorker, WORKER_MARK } from './runtime/worker.ts';
export type { WorkerInit } from './runtime/worker.ts';

export { buildRunner, MAX_BODY_BYTES } from './server/app.ts';
export type { RunnerAppDeps } from './server/app.ts';
export { CallService } from './server/calls.ts';
export { CONSERVATIVE_GAS_PER_SECOND, maxCallGasLimit } from './server/call-gas-limit.ts';
export { ReceiptPusher } from './server/receipt-pusher.ts';
export type { ReceiptPushMode } from './server/receipt-pusher.ts';
export type { CallResult, CallServiceDeps } from './server/calls.ts';
export { DEFAULT_RUNNER_HOST, DEFAULT_RUNNER_PORT, loadRunnerConfig } from './server/config.ts';
export type { RunnerConfig } from './server/config.ts';
export { HttpLedger, ledgerSessionFromJson, RECEIPT_PUSH_RETRIES } from './server/http-ledger.ts';
export type { HttpLedgerOptions } from './server/http-ledger.ts';
export { MemoryLedger } from './server/ledger.ts';
export type { Ledger, LedgerSession, LedgerSessionStatus, SessionStop } from './server/ledger.ts';
export { startRunner } from './server/main.ts';
export type { StartedRunner, StartOptions } from './server/main.ts';

export { ALL_MODULES, compileWat, loadZApp, TEST_MODULES, ZAPPS } from './zapps/load.ts';
export type { ZAppName } from './zapps/load.ts';
