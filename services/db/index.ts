export type { Db, DbKind, MigrationClient, OpenDbOptions, QueryResult, StoreChannel } from './db.ts';
export { INPUTS_CHANNEL } from './db.ts';
export { openDb } from './open.ts';
export { migrate, MIGRATION_LOCK_KEY } from './migrate.ts';
export { dropPgSchema } from './pg.ts';
export { isStoreUnavailable } from './unavailable.ts';
