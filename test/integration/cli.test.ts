import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_GENESIS_JSON } from '../../services/node/genesis.ts';
import { TEST_DATABASE_URL, freshSchema } from '../support/db.ts';
import type { TestDb } from '../support/db.ts';
import { REDIS_URL, testTag } from './fixtures.ts';
import { freePort } from '../support/net.ts';
import { dropRedisKeys } from '../support/redis.ts';

const ZGAS = fileURLToPath(new URL('../../bin/zgas.js', import.meta.url));
const WAIT_MS = 150_000;
const tag = testTag();
let db: TestDb;


function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [ZGAS, ...args], { env: { ...process.env, ZGAS_GENESIS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Polls a health endpoint until it answers 200, or the process exits, or WAIT_MS passes. */
async function waitForHealth(url: string, proc: ReturnType<typeof run>): Promise<unknown> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return await res.json();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`${url} never answered:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  db = await freshSchema('cli');
});
afterAll(async () => {
  await db?.close();
  await dropRedisKeys(`zgas-test-${tag}`);
});

describe('zgas node', () => {
  it('starts on a genesis file with Postgres and Redis, reports ready, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zgas-cli-'));
    const genesisFile = join(dir, 'genesis.json');
    writeFileSync(genesisFile, JSON.stringify(BUILTIN_GENESIS_JSON));
    const port = await freePort();
    const node = run(['node', '--genesis', genesisFile, '--port', String(port), '--workers', '1'], {
      DATABASE_URL: TEST_DATABASE_URL,
      ZGAS_DB_SCHEMA: db.schema,
      REDIS_URL,
      ZGAS_QUEUE_NAME: `cli-${tag}`,
      ZGAS_REDIS_PREFIX: `zgas-test-${tag}`,
    });
    try {
      const deadline = Date.now() + WAIT_MS;
      while (!node.output().includes('zgas node listening')) {
        if (Date.now() > deadline || node.child.exitCode !== null) throw new Error(`node did not start:\n${node.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', db: 'pg', queue: 'bullmq', events: 'redis' });
      const genesis = await fetch(`http://127.0.0.1:${port}/v1/momentums/0`);
      expect(await genesis.json()).toMatchObject({ height: '0', timestamp: BUILTIN_GENESIS_JSON.timestamp });
      const dashboard = await fetch(`http://127.0.0.1:${port}/`);
      expect(dashboard.headers.get('content-type')).toMatch(/^text\/html/);
      const overview = (await (await fetch(`http://127.0.0.1:${port}/v1/overview`)).json()) as { latest: { height: string } | null };
      expect(overview.latest?.height).toBe('0');

      // A provider's runner reporting to this node, its domain and limits from the same genesis file.
      const runnerPort = await freePort();
      const runner = run(['runner', '--api-url', `http://127.0.0.1:${port}`, '--genesis', genesisFile, '--port', String(runnerPort), '--workers', '1'], {
        ZGAS_RECEIPT_KEY: `0x${'33'.repeat(32)}`,
        ZGAS_PROVIDER_ADDRESS: BUILTIN_GENESIS_JSON.accounts[1]!.address,
      });
      try {
        const health = await waitForHealth(`http://127.0.0.1:${runnerPort}/healthz`, runner);
        expect(health).toMatchObject({ ok: true, workers: 1 });
      } finally {
        runner.child.kill('SIGTERM');
      }
      expect(await runner.exited).toBe(0);
    } finally {
      node.child.kill('SIGTERM');
    }
    expect(await node.exited).toBe(0);

    // The node's store replays from genesis.
    const replay = run(['replay', '--genesis', genesisFile], { DATABASE_URL: TEST_DATABASE_URL, ZGAS_DB_SCHEMA: db.schema });
    expect(await replay.exited).toBe(0);
    expect(replay.output()).toContain('"ok": true');
  }, WAIT_MS);

  it('refuses to start a worker whose genesis is not the store\'s (its signature domain would be wrong)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zgas-cli-'));
    const genesisFile = join(dir, 'other.json');
    writeFileSync(genesisFile, JSON.stringify({ ...BUILTIN_GENESIS_JSON, chainId: '1' }));
    const worker = run(['worker', '--genesis', genesisFile], {
      DATABASE_URL: TEST_DATABASE_URL,
      ZGAS_DB_SCHEMA: db.schema,
      REDIS_URL,
      ZGAS_QUEUE_NAME: `cli-${tag}`,
      ZGAS_REDIS_PREFIX: `zgas-test-${tag}`,
    });
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain('GenesisMismatch');
  }, WAIT_MS);

  it('exits 1 with the error code when the genesis file is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zgas-cli-'));
    const genesisFile = join(dir, 'bad.json');
    writeFileSync(genesisFile, JSON.stringify({ ...BUILTIN_GENESIS_JSON, chainId: 73405 }));
    const bad = run(['node', '--genesis', genesisFile], { DATABASE_URL: TEST_DATABASE_URL, ZGAS_DB_SCHEMA: db.schema });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain('InvalidGenesis');
  }, WAIT_MS);
});
