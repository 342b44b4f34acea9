/**
 * The session client against a runner and an API speaking the fixed surfaces
 * (docs/protocol.md §Fixed surfaces) over real HTTP: a small in-test runner that keeps a log per
 * seq like a real one, so the test can drop an answer, tamper with one, or check the invocation the
 * client signed with an ethers Wallet.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addressOf, makeDomain, recoverCallSigner, recoverInvocationRequestSigner, settlementReceipt, signReceipt } from '../../contracts/eip712/index.ts';
import { isZgasError } from '../../contracts/errors.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes, utf8Bytes } from '../../contracts/hex.ts';
import { callFromJson, invocationFromJson, receiptFromJson, receiptToJson } from '../../contracts/json.ts';
import { decodeMethod } from '../../contracts/abi/index.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, SettlementReceipt, SignedInvocation, StateWrite } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { SessionClient } from './session.ts';
import type { SessionResumeOptions } from './session.ts';
import { SettlementClient } from './settlement.ts';
import { SessionState } from './state.ts';

const domain = makeDomain(73405n, '0x00000000000000000000000000000000007a6761');
const userWallet = new Wallet(sha3(utf8Bytes('session test user')));
const signerKey = sha3(utf8Bytes('session test receipt signer'));
const sessionId = sha3(utf8Bytes('session test session')) as Hash;
const CALL_GAS = 250n;

interface Logged { invocation: SignedInvocation; answer: { output: string; receipt: ReturnType<typeof receiptToJson>; writes: StateWrite[] } }

/** What the in-test runner does to its next answer. */
let mode: 'honest' | 'drop-once' | 'drop-always' | 'tamper-state' = 'honest';
/** What GET …/receipts/latest answers instead of the logged receipt (a forging runner). */
let forgedLatest: ReturnType<typeof receiptToJson> | null = null;
const log: Logged[] = [];
const aborts: { api: string[]; runner: string[] } = { api: [], runner: [] };
let state = SessionState.empty();
let app: FastifyInstance;
let baseUrl = '';

/** The call every invocation runs: stores the input under key 0x01 and answers it reversed. */
function run(invocation: SignedInvocation): Logged['answer'] {
  const input = hexToBytes(invocation.input);
  const writes: StateWrite[] = [{ key: '0x01', value: invocation.input }];
  const post = state.apply(writes);
  const callGas = gas(CALL_GAS);
  const receipt = signReceipt(domain, {
    sessionId, seq: invocation.seq, callGasLimit: invocation.callGasLimit, callGas, cumulativeGas: gas(invocation.ackedGas + callGas),
    inputHash: sha3(input), preStateHash: invocation.preStateHash, outputHash: sha3(input.slice().reverse()),
    postStateHash: mode === 'tamper-state' ? EMPTY_STATE_HASH : post.hash(), status: CallStatus.Ok,
  }, signerKey);
  if (mode !== 'tamper-state') state = post;
  return { output: bytesToHex(input.slice().reverse()), receipt: receiptToJson(settlementReceipt(receipt, invocation.signature)), writes };
}

beforeAll(async () => {
  app = Fastify();
  app.get('/v1/sessions/:id', async () => ({
    id: sessionId, zAppId: sha3(utf8Bytes('zapp')), user: userWallet.address, receiptSigner: addressOf(signerKey), gasLimit: '1000000', status: 'open',
    stopCall: false, lastSeq: '0', lastPostStateHash: EMPTY_STATE_HASH,
  }));
  app.get('/v1/accounts/:address', async (_req, reply) => reply.status(404).send({ code: 'NotFound', message: 'none' }));
  app.post('/v1/calls', async (req, reply) => {
    const call = callFromJson(req.body);
    expect(recoverCallSigner(domain, call)).toBe(userWallet.address);
    aborts.api.push(decodeMethod(call.data).name);
    return reply.status(202).send({ callHash: sha3(hexToBytes(call.signature)) });
  });
  app.post('/v1/sessions/:id/abort', async (req, reply) => {
    aborts.runner.push(decodeMethod(callFromJson(req.body).data).name);
    return reply.status(202).send({});
  });
  app.get('/v1/sessions/:id/receipts/latest', async (_req, reply) => {
    if (forgedLatest !== null) return forgedLatest;
    const last = log.at(-1);
    return last === undefined ? reply.status(404).send({ code: 'NotFound', message: 'none' }) : last.answer.receipt;
  });
  app.post('/v1/sessions/:id/calls', async (req, reply) => {
    const invocation = invocationFromJson(req.body);
    if (recoverInvocationRequestSigner(domain, invocation) !== userWallet.address) return reply.status(401).send({ code: 'NotSessionUser', message: 'x' });
    const logged = log.find((l) => l.invocation.seq === invocation.seq);
    if (logged !== undefined) {
      // A retry of the same invocation gets the same answer; any other invocation for a logged seq is refused.
      if (logged.invocation.signature !== invocation.signature) return reply.status(409).send({ code: 'InvocationReplayed', message: 'x' });
      if (mode === 'drop-always') {
        req.raw.socket.destroy();
        return reply;
      }
      return logged.answer;
    }
    if (invocation.seq !== BigInt(log.length + 1)) return reply.status(409).send({ code: 'InvocationOutOfOrder', message: 'x' });
    const answer = run(invocation);
    log.push({ invocation, answer });
    if (mode === 'drop-once' || mode === 'drop-always') {
      if (mode === 'drop-once') mode = 'honest';
      req.raw.socket.destroy();
      return reply;
    }
    return answer;
  });
  baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
});

beforeEach(() => {
  mode = 'honest';
  forgedLatest = null;
  log.length = 0;
  state = SessionState.empty();
  aborts.api.length = 0;
  aborts.runner.length = 0;
});

const attach = async (): Promise<SessionClient> =>
  SessionClient.attach({ api: new SettlementClient({ baseUrl, domain }), runnerUrl: baseUrl, sessionId, user: userWallet, defaultCallGasLimit: gas(10_000) });

const resume = async (progress: Pick<SessionResumeOptions, 'calls' | 'pending'>): Promise<SessionClient> =>
  SessionClient.resume({ api: new SettlementClient({ baseUrl, domain }), runnerUrl: baseUrl, sessionId, user: userWallet, defaultCallGasLimit: gas(10_000), ...progress });

describe('the session client', () => {
  it('signs each invocation with an ethers Wallet, acknowledging the previous receipt, and keeps the state from the writes', async () => {
    const session = await attach();
    const first = await session.call(utf8Bytes('ab'));
    expect(new TextDecoder().decode(first.output)).toBe('ba');
    expect(first.receipt.preStateHash).toBe(EMPTY_STATE_HASH);
    const second = await session.call(utf8Bytes('xyz'));
    expect(log[1]!.invocation.preStateHash).toBe(first.receipt.postStateHash);
    expect(log[1]!.invocation.ackedGas).toBe(first.receipt.cumulativeGas);
    expect(second.receipt.cumulativeGas).toBe(2n * CALL_GAS);
    expect(session.state.hash()).toBe(second.receipt.postStateHash);
    expect(session.state.get('0x01')).toEqual(utf8Bytes('xyz'));
    expect(session.seq).toBe(3n);
    // The settlement receipt carries the client's own invocation signature.
    const stored: SettlementReceipt = session.calls[1]!.receipt;
    expect(stored.invocationSignature).toBe(log[1]!.invocation.signature);
  });

  it('resynchronises after a lost answer: the same invocation again, the same receipt', async () => {
    const session = await attach();
    await session.call(utf8Bytes('one'));
    mode = 'drop-once';
    const call = await session.call(utf8Bytes('two'));
    expect(log).toHaveLength(2);
    expect(call.receipt.signature).toBe(log[1]!.answer.receipt.signature);
    expect(session.seq).toBe(3n);
    await session.call(utf8Bytes('three'));
    expect(session.ackedGas).toBe(3n * CALL_GAS);
  });

  it('refuses a receipt whose post-state is not its own and acknowledges nothing after it', async () => {
    const session = await attach();
    await session.call(utf8Bytes('one'));
    const before = session.state.hash();
    mode = 'tamper-state';
    const error = await session.call(utf8Bytes('two')).catch((e: unknown) => e);
    expect(isZgasError(error, 'ReceiptNotAcknowledged') && error.details['field']).toBe('postStateHash');
    expect(session.state.hash()).toBe(before);
    expect(session.seq).toBe(2n);
    expect(session.calls).toHaveLength(1);
  });

  it('aborts through the API and the runner with one signed call, then signs nothing more', async () => {
    const session = await attach();
    await session.call(utf8Bytes('one'));
    const { runnerStopped } = await session.abort();
    expect(runnerStopped).toBe(true);
    expect(aborts).toEqual({ api: ['Abort'], runner: ['Abort'] });
    const error = await session.call(utf8Bytes('two')).catch((e: unknown) => e);
    expect(isZgasError(error, 'SessionStopped')).toBe(true);
  });

  it('resumes in a new process after a lost answer: the pending call again, then the right seq and acked gas', async () => {
    const first = await attach();
    await first.call(utf8Bytes('one'));
    const input = utf8Bytes('two');
    const pending = { seq: first.seq, input, callGasLimit: first.callGasLimitFor() };
    mode = 'drop-always';
    await expect(first.call(input, { callGasLimit: pending.callGasLimit })).rejects.toThrow();
    expect(log).toHaveLength(2);
    mode = 'honest';
    // The new process has the checked call 1 and the pending call 2; the runner ran call 2.
    const resumed = await resume({ calls: first.calls, pending });
    expect(resumed.seq).toBe(3n);
    expect(resumed.ackedGas).toBe(2n * CALL_GAS);
    expect(resumed.lastCall!.receipt.signature).toBe(log[1]!.answer.receipt.signature);
    expect(resumed.state.get('0x01')).toEqual(input);
    await resumed.call(utf8Bytes('three'));
    expect(log).toHaveLength(3);
    expect(log[2]!.invocation.ackedGas).toBe(2n * CALL_GAS);
    expect(resumed.ackedGas).toBe(3n * CALL_GAS);
  });

  it('resumes where the saved calls end when the runner ran nothing after them', async () => {
    const first = await attach();
    await first.call(utf8Bytes('one'));
    const resumed = await resume({ calls: first.calls });
    expect(resumed.seq).toBe(2n);
    await resumed.call(utf8Bytes('two'));
    expect(resumed.ackedGas).toBe(2n * CALL_GAS);
  });

  it('refuses a latest receipt the runner forged: not the receipt signer, or an invocation the user never signed', async () => {
    const first = await attach();
    await first.call(utf8Bytes('one'));
    const honest = log[0]!.answer.receipt;
    const forged = signReceipt(domain, { ...receiptFromJson(honest), seq: 2n, cumulativeGas: gas(2n * CALL_GAS), callGas: gas(CALL_GAS) }, sha3(utf8Bytes('a forger')));
    forgedLatest = receiptToJson(settlementReceipt(forged, receiptFromJson(honest).invocationSignature));
    const pending = { seq: 2n, input: utf8Bytes('one'), callGasLimit: first.callGasLimitFor() };
    const bySigner = await resume({ calls: first.calls, pending }).catch((e: unknown) => e);
    expect(isZgasError(bySigner, 'ReceiptNotAcknowledged') && bySigner.details['field']).toBe('signature');
    // Signed by the session's receipt signer, but for an invocation the user never signed.
    const unasked = signReceipt(domain, { ...receiptFromJson(honest), seq: 2n, cumulativeGas: gas(2n * CALL_GAS), callGas: gas(CALL_GAS) }, signerKey);
    forgedLatest = receiptToJson(settlementReceipt(unasked, receiptFromJson(honest).invocationSignature));
    const byUser = await resume({ calls: first.calls, pending }).catch((e: unknown) => e);
    expect(isZgasError(byUser, 'ReceiptNotAcknowledged') && byUser.details['field']).toBe('invocationSignature');
    expect(log).toHaveLength(1);
  });

  it('refuses to resume when the runner ran a call this client has no record of', async () => {
    const first = await attach();
    await first.call(utf8Bytes('one'));
    const error = await resume({ calls: [] }).catch((e: unknown) => e);
    expect(isZgasError(error, 'ReceiptNotAcknowledged') && error.details['field']).toBe('seq');
  });

  it('refuses to attach a signer that is not the session user', async () => {
    const stranger = new Wallet(sha3(utf8Bytes('stranger')));
    const error = await SessionClient.attach({ api: new SettlementClient({ baseUrl, domain }), runnerUrl: baseUrl, sessionId, user: stranger }).catch((e: unknown) => e);
    expect(isZgasError(error, 'NotSessionUser')).toBe(true);
  });
});
