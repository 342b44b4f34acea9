/**
 * The three roles done with the `zgas` command line as docs/roles.md shows them, end to end
 * against a real local system (Postgres in its own schema, Redis under its own prefix, the chain
 * clock running as in the demo): each command a child process, as a person or a script runs it.
 * The zApp owner deploys and funds `counter`; the provider registers and stakes; a user opens a
 * session, calls it twice, checks a receipt by re-execution, closes and finalizes it; the provider
 * claims after the challenge window. Waits are for conditions, bounded generously.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceleratedClock, DEMO_CLOCK_SPEED, DEMO_KEYS, demoGenesis } from '../../services/demo/genesis.ts';
import { startLocalSystem } from '../../services/demo/system.ts';
import type { LocalSystem } from '../../services/demo/system.ts';
import { silentLogger } from '../../services/log.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { testServers } from '../support/local-system.ts';

const ZGAS = fileURLToPath(new URL('../../bin/zgas.js', import.meta.url));
const servers = testServers('cli-roles', 'cli_roles');
const genesis = demoGenesis();
const clock = acceleratedClock(genesis.timestamp, DEMO_CLOCK_SPEED);
/** One command: a child process that starts TypeScript cold on a busy machine, then talks to the system. */
const COMMAND_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 600_000;

const dir = mkdtempSync(join(tmpdir(), 'zgas-cli-roles-'));
let system: LocalSystem;
let env: Record<string, string>;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function zgas(args: string[], opts: { stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ZGAS, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Runs a command that must succeed; its --json answer. */
async function ok<T = Record<string, unknown>>(args: string[], opts: { stdin?: string } = {}): Promise<T> {
  const run = await zgas([...args, '--json'], opts);
  if (run.code !== 0) throw new Error(`zgas ${args.join(' ')} exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout) as T;
}

beforeAll(async () => {
  system = await startLocalSystem({
    genesis,
    log: silentLogger,
    ...servers.options,
    verifyConcurrency: 1,
    clock,
    runners: [{ provider: DEMO_KEYS.provider.address, receiptKey: DEMO_KEYS.providerSigner.privateKey, port: 0, workers: 1 }],
    dashboard: true,
  });
  env = {
    ZGAS_API_URL: system.apiUrl,
    ZGAS_RUNNER_URL: system.runners[0]?.url ?? '',
    ZGAS_KEYSTORE: join(dir, 'keys'),
    ZGAS_CLI_HOME: join(dir, 'home'),
    ZGAS_PASSWORD: 'correct horse battery staple',
    ZGAS_GENESIS: '',
  };
}, STEP_TIMEOUT_MS);

afterAll(async () => {
  await system?.close();
  await servers.drop();
});

const state: { zAppId?: string; sessionId?: string } = {};

describe('zgas role commands against a local system', { timeout: STEP_TIMEOUT_MS }, () => {
  it('help prints every role command', async () => {
    const run = await zgas(['--help']);
    expect(run.code).toBe(0);
    for (const cmd of ['keys', 'zapp', 'session', 'provider', 'challenge', 'status']) expect(run.stdout).toContain(cmd);
  });

  it('keys: imports the three actors (piped key) and lists them without decrypting', async () => {
    for (const name of ['owner', 'provider', 'alice'] as const) {
      const key = await ok<{ address: string }>(['keys', 'import', name, '--scrypt-n', '1024'], { stdin: `${DEMO_KEYS[name].privateKey}\n` });
      expect(key.address).toBe(DEMO_KEYS[name].address);
    }
    const list = await ok<{ keys: Array<{ name: string; address: string }> }>(['keys', 'list']);
    expect(list.keys.map((k) => k.name)).toEqual(['alice', 'owner', 'provider']);
    const wrong = await zgas(['keys', 'list'], {});
    expect(wrong.stdout).toContain(DEMO_KEYS.alice.address);
  });

  it('provider: registers with its runner\'s receipt signer and a stake', async () => {
    const registered = await ok<{ provider: { stake: string; pricePerMgas: string } }>([
      'provider', 'register', '--key', 'provider', '--receipt-signer', DEMO_KEYS.providerSigner.address, '--price', '0.001', '--stake', '1000',
    ]);
    expect(registered.provider).toMatchObject({ stake: '100000000000', pricePerMgas: '100000' });
  });

  it('zApp owner: deploys counter with a policy and funds it; auto top-up; status', async () => {
    const wasm = join(dir, 'counter.wasm');
    writeFileSync(wasm, loadZApp('counter'));
    const deployed = await ok<{ zAppId: string; zApp: { available: string; policy: { openToAll: boolean } } }>([
      'zapp', 'deploy', wasm, '--key', 'owner', '--max-price', '0.01', '--max-gas', '50000000', '--open-to-all', '--open-gas-per-day', '1000000000', '--fund', '100',
    ]);
    expect(deployed.zApp).toMatchObject({ available: '10000000000', policy: { openToAll: true } });
    state.zAppId = deployed.zAppId;
    const topUp = await ok<{ autoTopUp: { minAvailable: string; refill: string } }>(['zapp', 'auto-topup', deployed.zAppId, '--key', 'owner', '--min-available', '10', '--refill', '20']);
    expect(topUp.autoTopUp).toEqual({ minAvailable: '1000000000', refill: '2000000000' });
    const status = await ok<{ available: string; held: string; burnRate: { perHour: string } }>(['zapp', 'status', deployed.zAppId]);
    expect(status).toMatchObject({ available: '10000000000', held: '0', burnRate: { perHour: '0' } });
  });

  it('refuses a ninth decimal, and says to check the domain when a signature recovers to another address', async () => {
    const nine = await zgas(['zapp', 'fund', state.zAppId!, '0.000000001', '--key', 'owner']);
    expect(nine.code).toBe(1);
    expect(nine.stderr).toMatch(/InvalidQsrAmount.*9 decimals/);
    expect(nine.stderr.trim().split('\n')).toHaveLength(1);
    const otherChain = await zgas(['zapp', 'fund', state.zAppId!, '1', '--key', 'owner', '--chain-id', '1']);
    expect(otherChain.code).toBe(1);
    expect(otherChain.stderr).toMatch(/WrongSigner.*--chain-id\/--contract/);
  });

  it('user: opens a session on the open zApp, paying nothing, and calls it twice; the record carries the state', async () => {
    const aliceBefore = (await ok<{ balance: string }>(['status', DEMO_KEYS.alice.address])).balance;
    const opened = await ok<{ sessionId: string; session: { user: string; status: string } }>([
      'session', 'open', state.zAppId!, '--key', 'alice', '--provider', DEMO_KEYS.provider.address, '--gas', '20000000', '--duration', '2h',
    ]);
    expect(opened.session).toMatchObject({ user: DEMO_KEYS.alice.address, status: 'open' });
    state.sessionId = opened.sessionId;
    const first = await ok<{ seq: string; status: string; outputText: string }>(['session', 'call', opened.sessionId, 'increment', '--key', 'alice']);
    expect(first).toMatchObject({ seq: '1', status: 'Ok', outputText: '1' });
    const second = await ok<{ seq: string; outputText: string; settledSeq: string }>(['session', 'call', opened.sessionId, 'increment', '--key', 'alice', '--wait-settled']);
    expect(second).toMatchObject({ seq: '2', outputText: '2', settledSeq: '2' });
    expect((await ok<{ balance: string }>(['status', DEMO_KEYS.alice.address])).balance).toBe(aliceBefore);
    const status = await ok<{ session: { lastSeq: string }; local: { calls: number } }>(['session', 'status', opened.sessionId]);
    expect(status.session.lastSeq).toBe('2');
    expect(status.local.calls).toBe(2);
    const zApp = await ok<{ held: string; burnRate: { spent: string } }>(['zapp', 'status', state.zAppId!]);
    expect(BigInt(zApp.held)).toBeGreaterThan(0n);
    expect(BigInt(zApp.burnRate.spent)).toBeGreaterThan(0n);
  });

  it('anyone: re-executes a receipt from the local record; an honest one is upheld and not sent', async () => {
    const run = await zgas(['challenge', '--session', state.sessionId!, '--seq', '1', '--key', 'alice', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ seq: '1', disproved: [], sent: false });
  });

  it('user: closes and finalizes the session; the rest of the hold returns to the zApp', async () => {
    await ok(['session', 'close', state.sessionId!, '--key', 'alice']);
    const finalized = await ok<{ session: { status: string } }>(['session', 'finalize', state.sessionId!, '--key', 'alice', '--wait']);
    expect(finalized.session.status).toBe('closed');
    const zApp = await ok<{ held: string }>(['zapp', 'status', state.zAppId!]);
    expect(zApp.held).toBe('0');
  });

  it('provider: sees its earnings, waits for the challenge window and claims them all', async () => {
    const before = await ok<{ earnings: { pending: string; claimableNow: string } }>(['provider', 'status', DEMO_KEYS.provider.address]);
    expect(BigInt(before.earnings.pending) + BigInt(before.earnings.claimableNow)).toBeGreaterThan(0n);
    const claimed = await ok<{ claimed: string; pending: string }>(['provider', 'claim', '--key', 'provider', '--wait']);
    expect(BigInt(claimed.claimed)).toBe(BigInt(before.earnings.pending) + BigInt(before.earnings.claimableNow));
    expect(claimed.pending).toBe('0');
  });

  it('status: an address shows its account, its provider record and the zApps it owns', async () => {
    const owner = await ok<{ zApps: Array<{ id: string }>; provider: unknown }>(['status', DEMO_KEYS.owner.address]);
    expect(owner.zApps.map((z) => z.id)).toContain(state.zAppId);
    expect(owner.provider).toBeNull();
    const provider = await ok<{ provider: { stake: string } }>(['status', DEMO_KEYS.provider.address]);
    expect(provider.provider.stake).toBe('100000000000');
  });
});
