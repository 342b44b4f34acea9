import { sha3 } from '../../contracts/hash.ts';
import { ZgasError } from '../../contracts/errors.ts';
import { parseHash } from '../../contracts/hex.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';

/** The largest WASM module the store accepts. */
export const MAX_MODULE_BYTES = 8 * 1024 * 1024;

/** Stores the module bytes under their SHA3-256 and returns it; storing the same bytes again is a no-op. */
export async function putModule(db: Db, bytes: Uint8Array): Promise<Hash> {
  if (bytes.length === 0) throw new ZgasError('InvalidModule', { reason: 'empty module' });
  if (bytes.length > MAX_MODULE_BYTES) throw new ZgasError('ModuleTooLarge', { bytes: bytes.length, maxBytes: MAX_MODULE_BYTES });
  const hash = sha3(bytes);
  await db.query('INSERT INTO modules (hash, bytes, size_bytes) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING', [hash, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.length]);
  return hash;
}

/** The module stored under the hash, or null. */
export async function getModule(db: Db, hash: string): Promise<Uint8Array | null> {
  const { rows } = await db.query<{ bytes: Uint8Array }>('SELECT bytes FROM modules WHERE hash = $1', [parseHash(hash)]);
  const row = rows[0];
  if (row === undefined) return null;
  const b = row.bytes;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Whether a module is stored under the hash. */
export async function hasModule(db: Db, hash: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM modules WHERE hash = $1', [parseHash(hash)]);
  return rows.length > 0;
}
