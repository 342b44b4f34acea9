import { createServer } from 'node:net';
import type { Server } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, dropSchema, uniqueSchemaName } from '../support/db.ts';
import { freePort } from '../support/net.ts';
import { spawnZgas } from '../support/zgas-process.ts';

/**
 * A process that cannot start says why in one line naming the variable or the port and what to do,
 * and exits non-zero: no stack trace, and no setup done before a check that could have failed first.
 */
const WAIT_MS = 120_000;
const schemas: string[] = [];

afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

async function schemaExists(schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

/** Runs the command to its exit; returns the exit code and the stderr lines that are not JSON logs. */
async function fails(args: string[], env: Record<string, string>): Promise<{ code: number | null; lines: string[]; output: string }> {
  const child = spawnZgas(args, { ZGAS_LOG_LEVEL: 'warn', ...env });
  const code = await child.exited;
  const lines = child
    .output()
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('{'));
  return { code, lines, output: child.output() };
}

function expectOneLine(result: { code: number | null; lines: string[]; output: string }, ...words: string[]): void {
  expect(result.code, result.output).not.toBe(0);
  expect(result.lines, result.output).toHaveLength(1);
  const [line = ''] = result.lines;
  expect(line).toMatch(/^zgas: /);
  for (const w of words) expect(line).toContain(w);
  expect(result.output).not.toMatch(/\n\s+at /);
}

describe('startup errors', () => {
  it('names DATABASE_URL when it is not a postgres:// URL', async () => {
    expectOneLine(await fails(['node', '--port', '0'], { DATABASE_URL: 'localhost' }), 'DATABASE_URL', 'postgres://', '"localhost"');
  }, WAIT_MS);

  it('names DATABASE_URL and the host when the database cannot be reached', async () => {
    const port = await freePort();
    expectOneLine(await fails(['node', '--port', '0'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test` }), 'DATABASE_URL', `127.0.0.1:${port}`);
    expectOneLine(await fails(['node', '--port', '0'], { DATABASE_URL: 'postgres://postgres@no-such-host.invalid:5432/test' }), 'DATABASE_URL', 'no-such-host.invalid');
  }, WAIT_MS);

  it('names the variable of any other bad value, without mentioning JSON', async () => {
    const result = await fails(['node'], { ZGAS_API_PORT: 'eighty' });
    expectOneLine(result, 'ZGAS_API_PORT');
    expect(result.lines[0]).not.toMatch(/JSON/);
  }, WAIT_MS);

  it('names a busy port before any setup: the store is left untouched', async () => {
    const schema = uniqueSchemaName('busy_port');
    schemas.push(schema);
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    const { port } = busy.address() as { port: number };
    try {
      const result = await fails(['node', '--port', String(port)], { DATABASE_URL: TEST_DATABASE_URL, ZGAS_DB_SCHEMA: schema });
      expectOneLine(result, String(port), 'ZGAS_API_PORT');
      expect(await schemaExists(schema)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  }, WAIT_MS);
});
