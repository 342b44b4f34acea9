import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { ClientBase } from 'pg';
import type { Db } from './db.ts';

/** The directory of the SQL migrations, applied in file-name order. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
/** Advisory-lock key serialising concurrent migrators of one store. */
export const MIGRATION_LOCK_KEY = 0x7a676173_6d696772n; // "zgasmigr"
const MIGRATIONS_TABLE = 'pgmigrations';

/**
 * Applies the pending migrations with node-pg-migrate's programmatic runner, all in one
 * transaction, while holding an advisory lock, so processes starting at once apply each migration
 * exactly once (the library's own lock fails instead of waiting, so it is replaced by ours).
 * Returns the names applied.
 */
export async function migrate(db: Db): Promise<string[]> {
  const result = await db.withAdvisoryLock(
    MIGRATION_LOCK_KEY,
    () =>
      db.withMigrationClient(async (client) => {
        const { rows } = await client.query('SELECT current_schema() AS schema', []);
        const schema = String(rows[0]?.['schema'] ?? 'public');
        const applied = await runner({
          dbClient: client as unknown as ClientBase,
          dir: MIGRATIONS_DIR,
          ignorePattern: '(\\..*)|(.*\\.md)',
          migrationsTable: MIGRATIONS_TABLE,
          schema,
          direction: 'up',
          singleTransaction: true,
          checkOrder: true,
          noLock: true,
          log: () => undefined,
        });
        return applied.map((m) => m.name);
      }),
    { wait: true },
  );
  return result.value ?? [];
}
