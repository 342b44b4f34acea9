import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { invocationFromJson, receiptFromJson } from '../../contracts/json.ts';
import type { Hash } from '../../contracts/types.ts';
import { FileSessionLog, MemorySessionLog } from './session-log.ts';
import type { LoggedCall, SessionLog } from './session-log.ts';
import { restoreSession } from './sessions.ts';

const receipt = receiptFromJson(vectors.settlementReceipt.json);
const call: LoggedCall = {
  invocation: invocationFromJson(vectors.invocation.wire),
  receipt,
  output: '0x31',
  writes: [{ key: '0x636f756e74', value: '0x31' }, { key: '0x6f6c64', value: null }],
};
let root = '';
let n = 0;
const id = (): Hash => sha3(utf8Bytes(`log session ${n++}`));

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'zgas-log-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each([
  ['memory', async (): Promise<SessionLog> => new MemorySessionLog()],
  ['file', async (): Promise<SessionLog> => FileSessionLog.open(root)],
])('%s session log', (_name, make) => {
  it('reads back calls, the abort mark and the lost mark', async () => {
    const log = await make();
    const session = id();
    expect(await log.read(session)).toEqual({ kind: 'none' });
    await log.append(session, call);
    await log.append(session, { ...call, output: '0x32' });
    expect(await log.read(session)).toEqual({ kind: 'calls', calls: [call, { ...call, output: '0x32' }], aborted: false });
    await log.markAborted(session);
    expect(await log.read(session)).toMatchObject({ kind: 'calls', aborted: true });
    await log.markLost(session);
    expect(await log.read(session)).toEqual({ kind: 'lost' });
  });

  it('refuses a call past the per-session bound with SessionLogFull, keeping what it holds', async () => {
    const bounded = _name === 'memory' ? new MemorySessionLog({ maxSessionBytes: 2_500, maxTotalBytes: 10_000 }) : await FileSessionLog.open(path.join(root, 'bounded'), { maxSessionBytes: 2_500, maxTotalBytes: 10_000 });
    const session = id();
    await bounded.append(session, call);
    await expect(bounded.append(session, call)).rejects.toMatchObject({ code: 'SessionLogFull' });
    expect(await bounded.read(session)).toMatchObject({ kind: 'calls', calls: [call] });
    expect(bounded.hasRoom(id(), 1_000)).toBe(true);
  });
});

describe('file session log', () => {
  it('survives reopening, and sizes what it holds against the total bound', async () => {
    const dir = path.join(root, 'reopen');
    const session = id();
    await (await FileSessionLog.open(dir)).append(session, call);
    const reopened = await FileSessionLog.open(dir, { maxSessionBytes: 1_000_000, maxTotalBytes: 1_500 });
    expect(await reopened.read(session)).toMatchObject({ kind: 'calls', calls: [call] });
    expect(reopened.hasRoom(id(), 1_000)).toBe(false);
  });

  it('cuts off a line torn by a crash (never answered) and appends after it', async () => {
    const dir = path.join(root, 'torn');
    const log = await FileSessionLog.open(dir);
    const session = id();
    await log.append(session, call);
    const file = path.join(dir, 'sessions', `${session}.jsonl`);
    await appendFile(file, '{"invocation":{"sessionId":"0x');
    const again = await FileSessionLog.open(dir);
    expect(await again.read(session)).toMatchObject({ kind: 'calls', calls: [call] });
    await again.append(session, call);
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('reads a damaged line as a lost log', async () => {
    const dir = path.join(root, 'damaged');
    const log = await FileSessionLog.open(dir);
    const session = id();
    await log.append(session, call);
    await writeFile(path.join(dir, 'sessions', `${session}.jsonl`), '{"not":"a call"}\n', { flag: 'a' });
    expect(await log.read(session)).toEqual({ kind: 'lost' });
  });
});

describe('restoreSession', () => {
  it('rebuilds the state from the writes, and treats a log that does not rebuild the signed state as lost', () => {
    const session = id();
    expect(restoreSession(session, { kind: 'none' })).toMatchObject({ last: null, lost: false, aborted: false });
    expect(restoreSession(session, { kind: 'lost' }).lost).toBe(true);
    // the vector receipt's postStateHash is not the hash of these writes
    expect(restoreSession(session, { kind: 'calls', calls: [call], aborted: false }).lost).toBe(true);
  });
});
