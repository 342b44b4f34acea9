/**
 * What the settlement API answers (DESIGN §9): the contract's JSON views of its state, which the
 * contract itself defines (so the client and the contract cannot disagree on a field), and the
 * API's own records of calls and momentums.
 */
import type { accountJson, paramsJson, providerJson, sessionJson, zAppJson } from '../../contracts/gas/state.ts';
import type { Hash } from '../../contracts/types.ts';

export type AccountView = ReturnType<typeof accountJson>;
export type ZAppView = ReturnType<typeof zAppJson>;
export type ProviderView = ReturnType<typeof providerJson>;
export type SessionView = ReturnType<typeof sessionJson>;
export type ParamsView = ReturnType<typeof paramsJson>;

/** An event the contract reported for an applied call (`type` plus its fields, amounts as decimal strings). */
export type ContractEventView = Record<string, unknown> & { type: string };

/** `GET /v1/calls/:hash`. */
export interface CallRecord {
  status: 'pending' | 'applied' | 'failed';
  code?: string;
  momentumHeight?: string;
  result?: { ok: boolean; events?: ContractEventView[]; created?: Hash; code?: string };
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
