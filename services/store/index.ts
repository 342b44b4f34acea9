// Every SQL statement of zgas lives in this directory.
export { putModule, getModule, hasModule, claimModule, expireModules, MAX_MODULE_BYTES, MAX_MODULES_PER_EXPIRY, DEFAULT_MODULE_BOUNDS } from './modules.ts';
export type { ModuleBounds } from './modules.ts';
export { insertReceipts, loadReceipts, receiptCopies, receiptCopyKey, markVerified, markRejected, unverifiedReceipts, expireRejected, expireApplied, receiptCounts, verifiedReceipts, markSettled, MAX_RECEIPTS_PER_CALL, MAX_COPIES_PER_LOOKUP, MAX_UNVERIFIED_COPIES_PER_SUBMITTER, MAX_UNVERIFIED_BYTES_PER_SUBMITTER, REJECTED_COPY_TTL_MS, DEFAULT_INTAKE_BOUNDS } from './receipts.ts';
export type { InsertOutcome, IntakeBounds, ReceiptCopy, StoredReceipt, ReceiptState } from './receipts.ts';
export { insertCall, getCall, pendingNonce, pendingCalls, markCalls, markRefused, expireCalls, MAX_CALLS_PER_BATCH, MAX_CALLS_PER_EXPIRY } from './calls.ts';
export { vacuumChurned, VACUUM_MIN_DEAD_ROWS, VACUUM_DEAD_FRACTION } from './retention.ts';
export type { VacuumedTable } from './retention.ts';
export type { CallRecord, CallStatus, PendingCall } from './calls.ts';
export { getAccount, getZApp, getProvider, getSession, providerSessions, loadState, loadEntities, saveAll, saveChanged, MAX_ENTITIES_PER_LOAD } from './state.ts';
export { sessionSigners } from './state.ts';
export type { EntityKeys, SessionSigners } from './state.ts';
export type { AccountJson, ZAppJson, ProviderJson, SessionJson } from './state.ts';
export { getMomentum, latestMomentum, latestMomentumHead, momentumByHash, insertMomentum, loadMomentum, loadLatestMomentum, loadMomentums, momentumJson, MAX_MOMENTUMS_PER_PAGE } from './momentums.ts';
export type { Momentum, MomentumJson } from './momentums.ts';
export { getMeta, initMeta } from './meta.ts';
export { resyncReceiptTallies, unappliedWork } from './backlog.ts';
