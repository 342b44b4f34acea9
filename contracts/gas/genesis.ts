import { ZgasError } from '../errors.ts';
import { parseAddress, parseHash } from '../hex.ts';
import type { Address, Hash } from '../types.ts';
import { add, formatUnits, MAX_UINT256, parseGas, parseQsr, parseUint256, parseUint64, wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { emptyState, totalSupply } from './state.ts';
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
  params: GenesisParams;
  accounts: GenesisAccount[];
}

/**
 * Documented defaults for any parameter a genesis file leaves out:
 * - minProviderStake 1,000 QSR
 * - challengeWindowSeconds 600 (10 minutes)
 * - unbondingPeriodSeconds 1,200 (must exceed the challenge window, so unbonding cannot dodge a slash)
 * - abortGraceGas 1,000,000 (one call's worth)
 * - abortGracePeriodSeconds 60
 * - slashFractionBps 5,000 (half the stake)
 * - maxSessionDurationSeconds 86,400 (one day)
 */
export const DEFAULT_PARAMS: Readonly<GenesisParams> = Object.freeze({
  minProviderStake: wholeQsr(1_000),
  unbondingPeriodSeconds: 1_200n,
  challengeWindowSeconds: 600n,
  abortGraceGas: 1_000_000n as Gas,
  abortGracePeriodSeconds: 60n,
  slashFractionBps: 5_000n,
  maxSessionDurationSeconds: 86_400n,
});

/** The gas table hash a genesis without `gasTable` names: "the runner's built-in default table". */
export const DEFAULT_GAS_TABLE_HASH: Hash = `0x${'00'.repeat(32)}`;

export const BPS_DENOMINATOR = 10_000n;
export const MAX_GENESIS_ACCOUNTS = 100_000;

const TOP_FIELDS = new Set(['chainId', 'contract', 'timestamp', 'gasTable', 'params', 'accounts']);
const PARAM_FIELDS: ReadonlyArray<keyof GenesisParams> = [
  'minProviderStake', 'unbondingPeriodSeconds', 'challengeWindowSeconds', 'abortGraceGas',
  'abortGracePeriodSeconds', 'slashFractionBps', 'maxSessionDurationSeconds',
];

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
  const gasTable = json.gasTable === undefined ? DEFAULT_GAS_TABLE_HASH : field('gasTable', json.gasTable, parseHash);

  const params: GenesisParams = { ...DEFAULT_PARAMS };
  if (json.params !== undefined) {
    if (!isRecord(json.params)) bad('params', 'expected an object');
    for (const key of Object.keys(json.params)) if (!(PARAM_FIELDS as readonly string[]).includes(key)) bad(`params.${key}`, 'unknown field');
    const p = json.params;
    if (p.minProviderStake !== undefined) params.minProviderStake = field('params.minProviderStake', p.minProviderStake, parseQsr);
    if (p.abortGraceGas !== undefined) params.abortGraceGas = field('params.abortGraceGas', p.abortGraceGas, parseGas);
    for (const key of ['unbondingPeriodSeconds', 'challengeWindowSeconds', 'abortGracePeriodSeconds', 'slashFractionBps', 'maxSessionDurationSeconds'] as const) {
      if (p[key] !== undefined) params[key] = field(`params.${key}`, p[key], parseUint64);
    }
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
  return { chainId, contract, timestamp, gasTable, params, accounts };
}

export function validateParams(params: GenesisParams): void {
  if (params.challengeWindowSeconds < 1n) bad('params.challengeWindowSeconds', 'must be at least 1');
  if (params.unbondingPeriodSeconds <= params.challengeWindowSeconds) bad('params.unbondingPeriodSeconds', 'must exceed challengeWindowSeconds');
  if (params.slashFractionBps > BPS_DENOMINATOR) bad('params.slashFractionBps', 'at most 10000');
  if (params.maxSessionDurationSeconds < 1n) bad('params.maxSessionDurationSeconds', 'must be at least 1');
  if (params.minProviderStake < 1n) bad('params.minProviderStake', 'must be at least 1 base unit');
}

/** The genesis as its JSON file (decimal strings, EIP-55 addresses); `parseGenesis(genesisToJson(g))` equals `g`. */
export function genesisToJson(genesis: Genesis): Record<string, unknown> {
  const p = genesis.params;
  return {
    chainId: formatUnits(genesis.chainId),
    contract: genesis.contract,
    timestamp: formatUnits(genesis.timestamp),
    gasTable: genesis.gasTable,
    params: {
      minProviderStake: formatUnits(p.minProviderStake),
      unbondingPeriodSeconds: formatUnits(p.unbondingPeriodSeconds),
      challengeWindowSeconds: formatUnits(p.challengeWindowSeconds),
      abortGraceGas: formatUnits(p.abortGraceGas),
      abortGracePeriodSeconds: formatUnits(p.abortGracePeriodSeconds),
      slashFractionBps: formatUnits(p.slashFractionBps),
      maxSessionDurationSeconds: formatUnits(p.maxSessionDurationSeconds),
    },
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
