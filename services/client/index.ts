// The zgas client: what a zApp ships to its users and what integrators import. It speaks the fixed
// surfaces (docs/protocol.md §Fixed surfaces) with the wire types, codecs and signatures of
// contracts/, and, in verify mode, re-executes calls with the runner's metered runtime.
export { SettlementClient, DEFAULT_POLL_INTERVAL_MS, DEFAULT_WAIT_MS } from './settlement.ts';
export type { AppliedCall, SettlementClientOptions } from './settlement.ts';
export { SessionClient, DEFAULT_CALL_GAS_LIMIT, MAX_RESYNC_ATTEMPTS } from './session.ts';
export type { CompletedCall, SessionClientOptions, SessionResumeOptions } from './session.ts';
export type { PendingCall } from './resume.ts';
export { SessionState } from './state.ts';
export { checkReceipt, EMPTY_OUTPUT_HASH } from './check.ts';
export type { ReceiptExpectation } from './check.ts';
export { Verifier, disprovedFields } from './verify.ts';
export type { Verification, VerifierOptions } from './verify.ts';
export { signCallWith, signInvocationWith, signInvocationRequestWith, signerAddress } from './signer.ts';
export type { TypedDataSigner } from './signer.ts';
export { readEvents } from './events.ts';
export { remoteError, request, poll, sleep } from './http.ts';
export type * from './views.ts';
