import { ZgasError } from '../../contracts/errors.ts';
import { genesisState } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { stateDigest } from '../../contracts/gas/state.ts';
import type { State } from '../../contracts/gas/state.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';
import type { Logger } from '../log.ts';
import { getMeta, initMeta } from '../store/meta.ts';
import { insertMomentum, loadLatestMomentum } from '../store/momentums.ts';
import type { Momentum } from '../store/momentums.ts';
import { loadState, saveAll } from '../store/state.ts';
import { genesisHash, momentumHash, ZERO_HASH } from './momentum.ts';

/** The meta key of the genesis hash the store was created from. */
export const GENESIS_META_KEY = 'genesis_hash';

/**
 * Checks the store belongs to this genesis (or is empty): a store created from another genesis
 * refuses to start with GenesisMismatch.
 */
export async function checkGenesis(db: Db, genesis: Genesis): Promise<Hash> {
  const expected = genesisHash(genesis);
  const stored = await getMeta(db, GENESIS_META_KEY);
  if (stored !== null && stored !== expected) throw new ZgasError('GenesisMismatch', { stored, expected });
  return expected;
}

/**
 * What a new leader starts from: the committed state and the newest momentum, read in one snapshot.
 * The first leader of an empty store commits the genesis as momentum 0 (the genesis state rows, the
 * genesis hash in meta, and momentum 0 { prevHash 0x00…00, timestamp genesis.timestamp, no inputs,
 * stateDigest of the genesis state }) in one transaction.
 */
export async function loadOrCommitGenesis(db: Db, genesis: Genesis, log: Logger): Promise<{ state: State; head: Momentum }> {
  const loaded = await db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const head = await loadLatestMomentum(tx);
    if (head === null) return null;
    return { head, state: await loadState(tx, genesisState(genesis)) };
  });
  if (loaded !== null) {
    // Momentum 0 records the whole genesis state's digest; later ones only their changes (replay checks those).
    const digest = loaded.head.height === 0n ? stateDigest(loaded.state) : loaded.head.stateDigest;
    if (digest !== loaded.head.stateDigest) throw new ZgasError('StoreCorrupt', { height: loaded.head.height.toString(), stored: loaded.head.stateDigest, loaded: digest });
    return loaded;
  }
  const base = genesisState(genesis);
  const hashOfGenesis = genesisHash(genesis);
  const fields = { height: 0n, prevHash: ZERO_HASH, timestamp: genesis.timestamp, inputs: [], results: [], stateDigest: stateDigest(base) };
  const head: Momentum = { ...fields, hash: momentumHash(fields) };
  await db.transaction(async (tx) => {
    const stored = await initMeta(tx, GENESIS_META_KEY, hashOfGenesis);
    if (stored !== hashOfGenesis) throw new ZgasError('GenesisMismatch', { stored, expected: hashOfGenesis });
    await saveAll(tx, base);
    await insertMomentum(tx, head);
  });
  log.info({ height: '0', hash: head.hash }, 'genesis committed');
  return { state: base, head };
}
