// The public contract API: units, errors, wire types, encodings, signatures and the gas contract.
export * from './errors.ts';
export * from './units.ts';
export * from './types.ts';
export * from './hex.ts';
export * from './hash.ts';
export * from './json.ts';
export * from './invocation.ts';
export * from './abi/index.ts';
export * from './eip712/index.ts';
export * from './events.ts';

// ── the gas contract ──────────────────────────────────────────────────────────────────────
export { apply, prepareCall, prepareReceipts } from './gas/apply.ts';
export type { ApplyOutput, CallInput, Changed, ContractEvent, Context, Input, InputResult, ReceiptOutcome, ReceiptsInput } from './gas/apply.ts';
export type { FraudKind } from './gas/events.ts';
export * from './gas/genesis.ts';
export * from './gas/state.ts';
export { checkInvariants, checkSession, outstanding } from './gas/invariants.ts';
export * from './gas/limits.ts';
export { challengeDeadline } from './gas/ops.ts';
export { providerView } from './gas/provider-view.ts';
export type { ProviderViewJson } from './gas/provider-view.ts';
export { receiptChallengeDeadline } from './gas/challenge.ts';
export type { ChallengeOutcome } from './gas/challenge.ts';
export { noChanges } from './gas/tx.ts';
export type { Reexecutor, RerunRequest, RerunResult } from './gas/reexecutor.ts';
