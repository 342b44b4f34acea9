import { readFile } from 'node:fs/promises';
import { ZgasError } from '../../contracts/errors.ts';
import { parseGenesis } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';

/**
 * The built-in genesis of `npm start` and of processes started without a genesis file. Its
 * accounts are the public test keys of the golden vectors (owner 0x11…, provider 0x22…, user
 * 0x44…; the receipt signer 0x33… holds nothing): never fund them anywhere real.
 */
export const BUILTIN_GENESIS_JSON = Object.freeze({
  chainId: '73405',
  contract: '0x00000000000000000000000000000000007a6761',
  timestamp: '1767225600',
  params: {
    minProviderStake: '100000000000',
    challengeWindowSeconds: '600',
    unbondingPeriodSeconds: '1200',
    abortGraceGas: '1000000',
    closeGracePeriodSeconds: '60',
    slashFractionBps: '5000',
    challengerRewardBps: '2000',
    challengeBond: '1000000000',
    maxSessionDurationSeconds: '86400',
    maxStateBytes: '4194304',
    maxInputBytes: '1048576',
  },
  accounts: [
    { address: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A', balance: '100000000000000' },
    { address: '0x1563915e194D8CfBA1943570603F7606A3115508', balance: '100000000000000' },
    { address: '0x7564105E977516C53bE337314c7E53838967bDaC', balance: '1000000000000' },
  ],
});

/** Largest genesis file read. */
const MAX_GENESIS_FILE_BYTES = 64 * 1024 * 1024;

/** The genesis in `path` (JSON), or the built-in one when no path is given. */
export async function loadGenesis(path: string | undefined): Promise<{ genesis: Genesis; source: string }> {
  if (path === undefined) return { genesis: parseGenesis(structuredClone(BUILTIN_GENESIS_JSON)), source: 'built-in' };
  const text = await readFile(path, 'utf8');
  if (text.length > MAX_GENESIS_FILE_BYTES) throw new ZgasError('InvalidGenesis', { path, reason: 'file too large' });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ZgasError('InvalidGenesis', { path, reason: 'not JSON' }, { cause: err });
  }
  return { genesis: parseGenesis(json), source: path };
}
