import { randomBytes } from 'node:crypto';
import type { Db } from '../../services/db/db.ts';
import { migrate } from '../../services/db/migrate.ts';
import { dropPgSchema, openPgDb } from '../../services/db/pg.ts';
import { openPgliteDb } from '../../services/db/pglite.ts';

/** The real Postgres of the test machine (trust auth). */
export const TEST_DATABASE_URL = process.env['ZGAS_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb extends Db {
  readonly schema: string;
  readonly databaseUrl: string;
}

/** A schema name unique to this test file and run: t_<name>_<random>. */
export function uniqueSchemaName(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 30);
  return `t_${slug}_${randomBytes(4).toString('hex')}`;
}

/**
 * A fresh schema on the real Postgres for one test file, migrated. `close()` closes the pool and
 * drops the schema. Pass `{ migrate: false }` for an empty schema.
 */
export async function freshSchema(name: string, opts: { migrate?: boolean; schema?: string } = {}): Promise<TestDb> {
  const schema = opts.schema ?? uniqueSchemaName(name);
  const db = await openPgDb({ databaseUrl: TEST_DATABASE_URL, schema });
  if (opts.migrate !== false) await migrate(db);
  return Object.assign(Object.create(null) as object, db, {
    schema,
    databaseUrl: TEST_DATABASE_URL,
    async close() {
      await db.close();
      await dropSchema(schema);
    },
  }) as TestDb;
}

/** Another pool on an existing test schema (a second process, as far as Postgres can tell). */
export async function openSchema(schema: string): Promise<Db> {
  return openPgDb({ databaseUrl: TEST_DATABASE_URL, schema });
}

export async function dropSchema(schema: string): Promise<void> {
  await dropPgSchema(TEST_DATABASE_URL, schema);
}

/** An in-memory PGlite store, migrated. */
export async function freshPglite(): Promise<Db> {
  const db = await openPgliteDb();
  await migrate(db);
  return db;
}
