/**
 * What the settlement API answers (docs/protocol.md §Fixed surfaces): the contract's JSON views of
 * its state, which the contract itself defines (so the client and the contract cannot disagree on a
 * field), and the API's own records of calls and momentums.
 */
import type { ProviderViewJson } from '../../contracts/gas/provider-view.ts';
import type { accountJson, paramsJson, providerJson, sessionJson, zAppJson } from '../../contracts/gas/state.ts';
import type { Hash } from '../../contracts/types.ts';

export type AccountView = ReturnType<typeof accountJson>;
export type ZAppView = ReturnType<typeof zAppJson>;
/** A provider; the API adds `earnings`: what is claimable now (at chain time `at`) and when the rest matures. */
export type ProviderView = ReturnType<typeof providerJson> & { earnings?: ProviderViewJson };
export type SessionView = ReturnType<typeof sessionJson>;
export type ParamsView = ReturnType<typeof paramsJson>;
export type ProviderEarningsView = ProviderViewJson;

/** An event the contract reported for an applied call (`type` plus its fields, amounts as decimal strings). */
export type ContractEventView = Record<string, unknown> & { type: string };

/** `GET /v1/calls/:hash`. */
export interface CallRecord {
  status: 'pending' | 'applied' | 'failed';
  code?: string;
  momentumHeight?: string;
  result?: { ok: boolean; events?: ContractEventView[]; created?: Hash; code?: string };
}

/** `GET /v1/receipts/:digest`: of a receipt's submitted copies, the one that went furthest in the pipeline. */
export interface ReceiptRecord {
  digest: Hash;
  state: 'stored' | 'verified' | 'applied' | 'rejected' | string;
  copies: number;
  signer?: string;
  invocationSigner?: string;
  code?: string;
  outcome?: string;
  momentumHeight?: string;
}

/** `GET /v1/momentums/:height`. */
export interface MomentumView {
  height: string;
  hash: Hash;
  prevHash: Hash;
  /** Unix seconds of chain time. */
  timestamp: string;
  inputs: unknown[];
  results: unknown[];
  stateDigest: Hash;
}

/** One Server-Sent Event of `GET /v1/events`: `momentum` or `abort`, its JSON data. */
export interface ServerEvent {
  type: string;
  data: Record<string, unknown>;
}
