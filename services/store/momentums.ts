import { parseHash } from '../../contracts/hex.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';

/** A committed momentum as stored and served (integers as decimal strings). */
export interface MomentumJson {
  height: string;
  hash: Hash;
  prevHash: Hash;
  /** Unix seconds. */
  timestamp: string;
  /** The inputs in their signed wire form, in the order applied. */
  inputs: unknown[];
  /** One result per input. */
  results: unknown[];
  /** The contract state's digest after the last input. */
  stateDigest: Hash;
}

export interface Momentum {
  height: bigint;
  hash: Hash;
  prevHash: Hash;
  timestamp: bigint;
  inputs: unknown[];
  results: unknown[];
  stateDigest: Hash;
}

/** Momentums one listing returns at most. */
export const MAX_MOMENTUMS_PER_PAGE = 1_000;

interface MomentumRow {
  height: string;
  hash: Hash;
  prev_hash: Hash;
  timestamp: string;
  inputs: unknown[];
  results: unknown[];
  state_digest: Hash;
}

const COLUMNS = 'height, hash, prev_hash, timestamp, inputs, results, state_digest';

const fromRow = (r: MomentumRow): Momentum => ({
  height: BigInt(r.height), hash: r.hash, prevHash: r.prev_hash, timestamp: BigInt(r.timestamp),
  inputs: r.inputs, results: r.results, stateDigest: r.state_digest,
});

export const momentumJson = (m: Momentum): MomentumJson => ({
  height: m.height.toString(), hash: m.hash, prevHash: m.prevHash, timestamp: m.timestamp.toString(),
  inputs: m.inputs, results: m.results, stateDigest: m.stateDigest,
});

/**
 * Inserts a momentum; fails (unique violation) if its height is already taken — the fence between
 * two sequencers. `texts`: its inputs and results as JSON text already made (the canonical text the
 * sequencer hashed), stored as they are instead of stringified again.
 */
export async function insertMomentum(db: Db, m: Momentum, texts?: { inputs: string; results: string }): Promise<void> {
  await db.query(
    `INSERT INTO momentums (${COLUMNS}) VALUES ($1, $2, $3, $4, $5::json, $6::json, $7)`,
    [m.height.toString(), m.hash, m.prevHash, m.timestamp.toString(), texts?.inputs ?? JSON.stringify(m.inputs), texts?.results ?? JSON.stringify(m.results), m.stateDigest],
  );
}

export async function loadMomentum(db: Db, height: bigint): Promise<Momentum | null> {
  if (height < 0n || height > (1n << 63n) - 1n) return null;
  const { rows } = await db.query<MomentumRow>(`SELECT ${COLUMNS} FROM momentums WHERE height = $1`, [height.toString()]);
  return rows[0] === undefined ? null : fromRow(rows[0]);
}

export async function loadLatestMomentum(db: Db): Promise<Momentum | null> {
  const { rows } = await db.query<MomentumRow>(`SELECT ${COLUMNS} FROM momentums ORDER BY height DESC LIMIT 1`);
  return rows[0] === undefined ? null : fromRow(rows[0]);
}

/** Momentums with height ≥ `from`, ascending, at most `limit`. */
export async function loadMomentums(db: Db, from: bigint, limit: number): Promise<Momentum[]> {
  const n = Math.max(0, Math.min(Math.trunc(limit), MAX_MOMENTUMS_PER_PAGE));
  const { rows } = await db.query<MomentumRow>(`SELECT ${COLUMNS} FROM momentums WHERE height >= $1 ORDER BY height LIMIT $2`, [from.toString(), n]);
  return rows.map(fromRow);
}

/** GET /v1/momentums/:height */
export async function getMomentum(db: Db, height: bigint | string): Promise<MomentumJson | null> {
  const h = typeof height === 'string' ? (/^(0|[1-9][0-9]{0,18})$/.test(height) ? BigInt(height) : -1n) : height;
  const m = await loadMomentum(db, h);
  return m === null ? null : momentumJson(m);
}

/** GET /v1/momentums/latest */
export async function latestMomentum(db: Db): Promise<MomentumJson | null> {
  const m = await loadLatestMomentum(db);
  return m === null ? null : momentumJson(m);
}

/** The momentum holding a momentum hash, if any. */
export async function momentumByHash(db: Db, hash: string): Promise<MomentumJson | null> {
  const { rows } = await db.query<MomentumRow>(`SELECT ${COLUMNS} FROM momentums WHERE hash = $1`, [parseHash(hash)]);
  return rows[0] === undefined ? null : momentumJson(fromRow(rows[0]));
}

/** The newest momentum's height and timestamp, without its inputs (null before genesis). */
export async function latestMomentumHead(db: Db): Promise<{ height: bigint; timestamp: bigint } | null> {
  const { rows } = await db.query<{ height: string; timestamp: string }>('SELECT height::text AS height, timestamp::text AS timestamp FROM momentums ORDER BY height DESC LIMIT 1');
  const row = rows[0];
  return row === undefined ? null : { height: BigInt(row.height), timestamp: BigInt(row.timestamp) };
}
