import type { Db } from '../db/db.ts';

export async function getMeta(db: Db, key: string): Promise<string | null> {
  const { rows } = await db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
  return rows[0]?.value ?? null;
}

/** Sets the key unless it is set; returns the value now stored (the existing one when it was). */
export async function initMeta(db: Db, key: string, value: string): Promise<string> {
  await db.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
  return (await getMeta(db, key)) ?? value;
}
