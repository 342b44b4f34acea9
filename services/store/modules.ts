import { sha3 } from '../../contracts/hash.ts';
import { ZgasError } from '../../contracts/errors.ts';
import { parseHash } from '../../contracts/hex.ts';
import type { Hash } from '../../contracts/types.ts';
import {
  DEFAULT_MAX_UNREGISTERED_MODULE_BYTES, DEFAULT_MAX_UNREGISTERED_MODULES, DEFAULT_MODULE_BYTES_PER_UPLOADER, DEFAULT_MODULE_TTL_SECONDS, DEFAULT_MODULES_PER_UPLOADER,
} from '../config.ts';
import type { Db } from '../db/db.ts';

/** The largest WASM module the store accepts. */
export const MAX_MODULE_BYTES = 8 * 1024 * 1024;
/** Expired unregistered modules one expiry call deletes at most. */
export const MAX_MODULES_PER_EXPIRY = 100;

/**
 * What uploads no registered zApp references yet may take of the store. Anyone can upload, so
 * these are bounded per uploader (client address) and in all, and they expire after `ttlMs`
 * unless a RegisterZApp references them first.
 */
export interface ModuleBounds {
  /** Unregistered modules of the whole store. */
  totalCount: number;
  totalBytes: number;
  /** Unregistered modules of one uploader. */
  perUploaderCount: number;
  perUploaderBytes: number;
  /** How long an unregistered upload is kept; a RegisterZApp call accepted for it restarts the time. */
  ttlMs: number;
}

export const DEFAULT_MODULE_BOUNDS: Readonly<ModuleBounds> = Object.freeze({
  totalCount: DEFAULT_MAX_UNREGISTERED_MODULES,
  totalBytes: DEFAULT_MAX_UNREGISTERED_MODULE_BYTES,
  perUploaderCount: DEFAULT_MODULES_PER_UPLOADER,
  perUploaderBytes: DEFAULT_MODULE_BYTES_PER_UPLOADER,
  ttlMs: DEFAULT_MODULE_TTL_SECONDS * 1000,
});

/** Unregistered: uploaded by a client and referenced by no zApp. */
const UNREGISTERED = `m.uploader IS NOT NULL AND NOT EXISTS (SELECT 1 FROM zapps z WHERE z.module_hash = m.hash)`;

interface Usage {
  count: number;
  bytes: number;
  /** Milliseconds until the soonest of these expires (0 when none). */
  nextExpiryMs: number;
}

async function usage(tx: Db, uploader: string | null): Promise<Usage> {
  const { rows } = await tx.query<{ n: string; bytes: string; next_ms: string | null }>(
    `SELECT count(*)::text AS n, coalesce(sum(size_bytes), 0)::text AS bytes,
            (extract(epoch FROM (min(expires_at) - now())) * 1000)::bigint::text AS next_ms
     FROM modules m WHERE ${UNREGISTERED} AND ($1::text IS NULL OR m.uploader = $1)`,
    [uploader],
  );
  const row = rows[0];
  return { count: Number(row?.n ?? 0), bytes: Number(row?.bytes ?? 0), nextExpiryMs: Math.max(0, Number(row?.next_ms ?? 0)) };
}

/**
 * Stores the module bytes under their SHA3-256 and returns it; storing the same bytes again is a
 * no-op. With an `uploader` (a client of the API) a new module is an unregistered upload: refused
 * with ModuleQuotaExceeded past the uploader's bounds and with StorageFull past the store's, and
 * deleted after `bounds.ttlMs` unless a zApp references it. Without one (the operator's own tools)
 * it is kept for good.
 */
export async function putModule(db: Db, bytes: Uint8Array, upload?: { uploader: string; bounds: ModuleBounds }): Promise<Hash> {
  if (bytes.length === 0) throw new ZgasError('InvalidModule', { reason: 'empty module' });
  if (bytes.length > MAX_MODULE_BYTES) throw new ZgasError('ModuleTooLarge', { bytes: bytes.length, maxBytes: MAX_MODULE_BYTES });
  const hash = sha3(bytes);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (upload === undefined) {
    await db.query('INSERT INTO modules (hash, bytes, size_bytes) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING', [hash, buffer, bytes.length]);
    return hash;
  }
  const { uploader, bounds } = upload;
  if (await hasModule(db, hash)) return hash;
  await db.transaction(async (tx) => {
    // One upload checked at a time per store, so concurrent uploads cannot overshoot the bounds.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':module-uploads'))`);
    const mine = await usage(tx, uploader);
    if (mine.count + 1 > bounds.perUploaderCount || mine.bytes + bytes.length > bounds.perUploaderBytes) {
      throw new ZgasError('ModuleQuotaExceeded', {
        uploader, unregisteredModules: mine.count, maxModules: bounds.perUploaderCount, unregisteredBytes: mine.bytes, maxBytes: bounds.perUploaderBytes,
        retryAfterMs: Math.max(1_000, mine.nextExpiryMs),
      });
    }
    const all = await usage(tx, null);
    if (all.count + 1 > bounds.totalCount || all.bytes + bytes.length > bounds.totalBytes) {
      throw new ZgasError('StorageFull', {
        what: 'unregistered modules', modules: all.count, maxModules: bounds.totalCount, bytes: all.bytes, maxBytes: bounds.totalBytes,
        retryAfterMs: Math.max(1_000, all.nextExpiryMs),
      });
    }
    await tx.query(
      `INSERT INTO modules (hash, bytes, size_bytes, uploader, expires_at)
       VALUES ($1, $2, $3, $4, now() + ($5::bigint * interval '1 millisecond')) ON CONFLICT (hash) DO NOTHING`,
      [hash, buffer, bytes.length, uploader, Math.trunc(bounds.ttlMs)],
    );
  });
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

/**
 * For a RegisterZApp call about to be stored: whether the module is stored, and if it is an
 * unregistered upload, its time to live starts again, so it cannot expire while the call waits
 * for the sequencer.
 */
export async function claimModule(db: Db, hash: string, ttlMs: number): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE modules SET expires_at = CASE WHEN uploader IS NULL THEN expires_at
                                          ELSE greatest(expires_at, now() + ($2::bigint * interval '1 millisecond')) END
     WHERE hash = $1 RETURNING 1`,
    [parseHash(hash), Math.trunc(ttlMs)],
  );
  return rows.length > 0;
}

/**
 * Keeps for good the uploads a registered zApp now references (clears their uploader), then
 * deletes expired unregistered uploads (at most `limit`): never one a zApp references nor one a
 * pending call names (a RegisterZApp waiting for the sequencer). Returns how many were deleted.
 */
export async function expireModules(db: Db, limit: number): Promise<number> {
  const n = Math.max(0, Math.min(Math.trunc(limit), MAX_MODULES_PER_EXPIRY));
  await db.query(
    `UPDATE modules m SET uploader = NULL, expires_at = NULL
     WHERE m.uploader IS NOT NULL AND EXISTS (SELECT 1 FROM zapps z WHERE z.module_hash = m.hash)`,
  );
  // A pending call's data is ABI hex: one naming the module holds its hash's 64 hex digits. A
  // match anywhere else only keeps a module longer.
  const { rows } = await db.query(
    // The expiry is checked again on the row itself: a claim committed meanwhile keeps it.
    `DELETE FROM modules d WHERE d.uploader IS NOT NULL AND d.expires_at <= now() AND d.hash IN (
       SELECT m.hash FROM modules m
       WHERE ${UNREGISTERED} AND m.expires_at <= now()
         AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.status = 'pending' AND strpos(lower(c.signed->>'data'), substr(m.hash, 3)) > 0)
       ORDER BY m.expires_at LIMIT $1)
     RETURNING d.hash`,
    [n],
  );
  return rows.length;
}
