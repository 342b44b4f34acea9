export { startHost, checkGenesis, LEADER_LOCK_KEY, FOLLOWER_RETRY_MS, MAX_CALLS_PER_MOMENTUM, MAX_RECEIPTS_PER_MOMENTUM, MAX_REEXECUTION_GAS_PER_MOMENTUM, GENESIS_META_KEY } from './host.ts';
export { dryRunCall } from './dry-run.ts';
export type { Host, HostEvent, HostOptions, RoundTimings } from './host.ts';
export { replay, MAX_REPLAY_MISMATCHES } from './replay.ts';
export type { ReplayMismatch, ReplayOptions, ReplayReport } from './replay.ts';
export { momentumHash, genesisHash, ZERO_HASH } from './momentum.ts';
export type { MomentumInput, MomentumResult } from './momentum.ts';
export { canonicalJson, toJsonValue } from './canonical.ts';
