// Every SQL statement of zgas lives in this directory.
export { putModule, getModule, hasModule, MAX_MODULE_BYTES } from './modules.ts';
export { insertReceipts, loadReceipts, markVerified, markRejected, unverifiedReceipts, receiptCounts, verifiedReceipts, markSettled, MAX_RECEIPTS_PER_CALL } from './receipts.ts';
export type { StoredReceipt, ReceiptState } from './receipts.ts';
export { insertCall, getCall, pendingNonce, pendingCalls, markCalls, markRefused, MAX_CALLS_PER_BATCH } from './calls.ts';
export type { CallRecord, CallStatus, PendingCall } from './calls.ts';
export { getAccount, getZApp, getProvider, getSession, providerSessions, loadState, saveAll, saveChanged } from './state.ts';
export type { AccountJson, ZAppJson, ProviderJson, SessionJson, UserGasJson } from './state.ts';
export { getMomentum, latestMomentum, momentumByHash, insertMomentum, loadMomentum, loadLatestMomentum, loadMomentums, momentumJson, MAX_MOMENTUMS_PER_PAGE } from './momentums.ts';
export type { Momentum, MomentumJson } from './momentums.ts';
export { getMeta, initMeta } from './meta.ts';
export { unappliedWork } from './backlog.ts';
