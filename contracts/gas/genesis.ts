import { ZgasError } from '../errors.ts';
import { parseAddress, parseHash } from '../hex.ts';
import type { Address, Hash } from '../types.ts';
import { MAX_CALL_DATA_BYTES } from '../abi/methods.ts';
import { add, cost, formatUnits, MAX_UINT256, parseGas, parseQsr, parseUint256, parseUint64, wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { CHALLENGE_OVERHEAD_BYTES, MAX_CALL_GAS_LIMIT, MAX_CHALLENGE_WINDOW_SECONDS, MAX_PARAM_SECONDS, REEXECUTION_PRICE_PER_MGAS } from './limits.ts';
import { emptyState, paramsJson, totalSupply } from './state.ts';
import type { GenesisParams, State } from './state.ts';

export type { GenesisParams } from './state.ts';
export { totalSupply };

export interface GenesisAccount {
  address: Address;
  balance: Qsr;
}

export interface Genesis {
  chainId: bigint;
  /** The gas contract's address: the EIP-712 verifyingContract. */
  contract: Address;
  /** Unix seconds of the genesis momentum. */
  timestamp: bigint;
  /** Hash of the gas table every runner must meter with. */
  gasTable: Hash;
  /**
   * The metering semantics every runner and re-executor must implement (instrumenter and runtime:
   * where blocks start, what callGas is at each end). Absent: whatever the node runs, which it
   * states in GET /v1/genesis; a runner or re-executor with another version refuses to start.
   */
  meteringVersion?: number;
  params: GenesisParams;
  accounts: GenesisAccount[];
}

/**
 * Documented defaults for any parameter a genesis file leaves out:
 * - minProviderStake 1,000 QSR
 * - challengeWindowSeconds 600 (10 minutes; at most 7 days)
 * - unbondingPeriodSeconds 1,200 (must exceed the challenge window)
 * - abortGraceGas 1,000,000 (what an unfinished call may still bill after an abort)
 * - closeGracePeriodSeconds 60 (a closing session's last calls finish and settle)
 * - slashFractionBps 5,000 (half of stake + unbonding; 1..10,000)
 * - challengerRewardBps 2,000 (a fifth of the slash; at most 5,000, the rest is burned)
 * - challengeBond 10 QSR (at least cost(MAX_CALL_GAS_LIMIT, REEXECUTION_PRICE_PER_MGAS) = 0.01 QSR)
 * - maxSessionDurationSeconds 86,400 (one day)
 * - maxStateBytes 4 MiB and maxInputBytes 1 MiB (with a receipt they fit one Challenge's call data)
 */
export const DEFAULT_PARAMS: Readonly<GenesisParams> = Object.freeze({
  minProviderStake: wholeQsr(1_000),
  unbondingPeriodSeconds: 1_200n,
  challengeWindowSeconds: 600n,
  abortGraceGas: 1_000_000n as Gas,
  closeGracePeriodSeconds: 60n,
  slashFractionBps: 5_000n,
  challengerRewardBps: 2_000n,
  challengeBond: wholeQsr(10),
  maxSessionDurationSeconds: 86_400n,
  maxStateBytes: 4n * 1024n * 1024n,
  maxInputBytes: 1024n * 1024n,
});

/**
 * The gas table a genesis without `gasTable` names: the hash of the default table the project ships
 * (`zeno-wasm-gas-v1`). The contract names it by hash and never reads it; a test beside the table
 * registry keeps the two equal, so changing a figure of the default table changes this line too.
 */
export const DEFAULT_GAS_TABLE_HASH: Hash = '0x13c4516085712ebe9354dd736e3eaa1be5bab76e405f12b717d373988181179c';
/** The largest metering version a genesis may name. */
export const MAX_METERING_VERSION = 65_535;

export const BPS_DENOMINATOR = 10_000n;
/** The largest challenger reward: slashing yourself through a second account burns at least half of what it moves. */
export const MAX_CHALLENGER_REWARD_BPS = 5_000n;
/** The least challengeBond: what the largest re-execution the chain allows costs (limits.ts). */
export const MIN_CHALLENGE_BOND: Qsr = cost(MAX_CALL_GAS_LIMIT, REEXECUTION_PRICE_PER_MGAS);
export const MAX_GENESIS_ACCOUNTS = 100_000;

const TOP_FIELDS = new Set(['chainId', 'contract', 'timestamp', 'gasTable', 'meteringVersion', 'params', 'accounts']);
const PARAM_FIELDS: ReadonlyArray<keyof GenesisParams> = [
  'minProviderStake', 'unbondingPeriodSeconds', 'challengeWindowSeconds', 'abortGraceGas',
  'closeGracePeriodSeconds', 'slashFractionBps', 'challengerRewardBps', 'challengeBond',
  'maxSessionDurationSeconds', 'maxStateBytes', 'maxInputBytes',
];
const QSR_PARAMS = ['minProviderStake', 'challengeBond'] as const;
const UINT64_PARAMS = [
  'unbondingPeriodSeconds', 'challengeWindowSeconds', 'closeGracePeriodSeconds', 'slashFractionBps',
  'challengerRewardBps', 'maxSessionDurationSeconds', 'maxStateBytes', 'maxInputBytes',
] as const;

function bad(path: string, reason: string, cause?: unknown): never {
  throw new ZgasError('InvalidGenesis', { path, reason }, cause === undefined ? undefined : { cause });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field<T>(path: string, value: unknown, parse: (text: string) => T): T {
  if (typeof value !== 'string') bad(path, 'expected a decimal string');
  try {
    return parse(value);
  } catch (error) {
    return bad(path, error instanceof ZgasError ? error.message : 'invalid value', error);
  }
}

/** Parses a genesis file (already JSON-decoded) strictly: unknown fields, bad numbers and bad addresses are InvalidGenesis. */
export function parseGenesis(json: unknown): Genesis {
  if (!isRecord(json)) bad('', 'genesis must be a JSON object');
  for (const key of Object.keys(json)) if (!TOP_FIELDS.has(key)) bad(key, 'unknown field');
  const chainId = field('chainId', json.chainId, parseUint256);
  const contract = field('contract', json.contract, parseAddress);
  const timestamp = field('timestamp', json.timestamp, parseUint64);
  const gasTable = json.gasTable === undefined ? DEFAULT_GAS_TABLE_HASH : (field('gasTable', json.gasTable, parseHash).toLowerCase() as Hash);
  const meteringVersion = json.meteringVersion === undefined ? undefined : parseMeteringVersion(field('meteringVersion', json.meteringVersion, parseUint64));

  const params: GenesisParams = { ...DEFAULT_PARAMS };
  if (json.params !== undefined) {
    if (!isRecord(json.params)) bad('params', 'expected an object');
    for (const key of Object.keys(json.params)) if (!(PARAM_FIELDS as readonly string[]).includes(key)) bad(`params.${key}`, 'unknown field');
    const p = json.params;
    for (const key of QSR_PARAMS) if (p[key] !== undefined) params[key] = field(`params.${key}`, p[key], parseQsr);
    if (p.abortGraceGas !== undefined) params.abortGraceGas = field('params.abortGraceGas', p.abortGraceGas, parseGas);
    for (const key of UINT64_PARAMS) if (p[key] !== undefined) params[key] = field(`params.${key}`, p[key], parseUint64);
  }
  validateParams(params);

  if (!Array.isArray(json.accounts)) bad('accounts', 'expected an array of { address, balance }');
  if (json.accounts.length > MAX_GENESIS_ACCOUNTS) bad('accounts', `at most ${MAX_GENESIS_ACCOUNTS} accounts`);
  const seen = new Set<string>();
  let supply = 0n;
  const accounts: GenesisAccount[] = json.accounts.map((entry: unknown, i: number) => {
    const path = `accounts[${i}]`;
    if (!isRecord(entry)) bad(path, 'expected { address, balance }');
    for (const key of Object.keys(entry)) if (key !== 'address' && key !== 'balance') bad(`${path}.${key}`, 'unknown field');
    const address = field(`${path}.address`, entry.address, parseAddress);
    const balance = field(`${path}.balance`, entry.balance, parseQsr);
    if (seen.has(address)) bad(`${path}.address`, 'duplicate account');
    seen.add(address);
    supply += balance;
    if (supply > MAX_UINT256) bad(`${path}.balance`, 'total supply exceeds 2^256-1');
    return { address, balance };
  });
  return { chainId, contract, timestamp, gasTable, ...(meteringVersion === undefined ? {} : { meteringVersion }), params, accounts };
}

function parseMeteringVersion(version: bigint): number {
  if (version < 1n || version > BigInt(MAX_METERING_VERSION)) bad('meteringVersion', `a decimal string from 1 to ${MAX_METERING_VERSION}`);
  return Number(version);
}

/** The rules a genesis must satisfy (docs/contract.md §Parameters); InvalidGenesis names the parameter. */
export function validateParams(params: GenesisParams): void {
  if (params.challengeWindowSeconds < 1n) bad('params.challengeWindowSeconds', 'must be at least 1');
  if (params.challengeWindowSeconds > MAX_CHALLENGE_WINDOW_SECONDS) bad('params.challengeWindowSeconds', `at most ${MAX_CHALLENGE_WINDOW_SECONDS}`);
  if (params.unbondingPeriodSeconds <= params.challengeWindowSeconds) bad('params.unbondingPeriodSeconds', 'must exceed challengeWindowSeconds');
  if (params.slashFractionBps < 1n || params.slashFractionBps > BPS_DENOMINATOR) bad('params.slashFractionBps', 'must be from 1 to 10000');
  if (params.challengerRewardBps > MAX_CHALLENGER_REWARD_BPS) bad('params.challengerRewardBps', `at most ${MAX_CHALLENGER_REWARD_BPS}, so a self-slash burns at least half`);
  if (params.challengeBond < MIN_CHALLENGE_BOND) bad('params.challengeBond', `at least ${MIN_CHALLENGE_BOND}: cost(${MAX_CALL_GAS_LIMIT} gas, ${REEXECUTION_PRICE_PER_MGAS} per Mgas), the largest re-execution`);
  if (params.maxSessionDurationSeconds < 1n) bad('params.maxSessionDurationSeconds', 'must be at least 1');
  for (const key of ['unbondingPeriodSeconds', 'closeGracePeriodSeconds', 'maxSessionDurationSeconds'] as const) {
    if (params[key] > MAX_PARAM_SECONDS) bad(`params.${key}`, `at most ${MAX_PARAM_SECONDS} (100 years)`);
  }
  if (params.minProviderStake < 1n) bad('params.minProviderStake', 'must be at least 1 base unit');
  if (params.maxInputBytes < 1n) bad('params.maxInputBytes', 'must be at least 1');
  if (params.maxStateBytes + params.maxInputBytes + BigInt(CHALLENGE_OVERHEAD_BYTES) > BigInt(MAX_CALL_DATA_BYTES)) {
    bad('params.maxStateBytes', `maxStateBytes + maxInputBytes must be at most ${MAX_CALL_DATA_BYTES - CHALLENGE_OVERHEAD_BYTES}, so a Challenge fits the call-data limit`);
  }
}

/** The genesis as its JSON file (decimal strings, EIP-55 addresses); `parseGenesis(genesisToJson(g))` equals `g`. */
export function genesisToJson(genesis: Genesis): Record<string, unknown> {
  return {
    chainId: formatUnits(genesis.chainId),
    contract: genesis.contract,
    timestamp: formatUnits(genesis.timestamp),
    gasTable: genesis.gasTable,
    ...(genesis.meteringVersion === undefined ? {} : { meteringVersion: String(genesis.meteringVersion) }),
    params: paramsJson(genesis.params),
    accounts: genesis.accounts.map((a) => ({ address: a.address, balance: formatUnits(a.balance) })),
  };
}

/** Σ genesis balances: the QSR that exists, conserved by every input. */
export function genesisSupply(genesis: Genesis): Qsr {
  let total = 0n as Qsr;
  for (const a of genesis.accounts) total = add(total, a.balance);
  return total;
}

/** The contract state at genesis: the accounts with their balances, nothing else. */
export function genesisState(genesis: Genesis): State {
  validateParams(genesis.params);
  const state = emptyState(genesis.chainId, genesis.contract, genesis.gasTable, { ...genesis.params });
  for (const a of genesis.accounts) {
    if (state.accounts.has(a.address)) bad('accounts', 'duplicate account');
    state.accounts.set(a.address, { balance: a.balance, nonce: 0n });
  }
  state.supply = genesisSupply(genesis);
  state.totals.balances = state.supply;
  return state;
}
