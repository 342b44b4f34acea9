import type { Db, OpenDbOptions } from './db.ts';
import { openPgDb } from './pg.ts';
import { openPgliteDb } from './pglite.ts';

/** Opens the store: Postgres when a databaseUrl is given, else PGlite (in memory unless dataDir). */
export async function openDb(opts: OpenDbOptions = {}): Promise<Db> {
  if (opts.databaseUrl !== undefined) {
    return openPgDb({ databaseUrl: opts.databaseUrl, schema: opts.schema ?? 'public', ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}) });
  }
  return openPgliteDb(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {});
}
