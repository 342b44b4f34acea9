/**
 * The demo's dishonest provider: a runner that really runs each call with the metered runtime but
 * signs receipts for more gas than the call used, keeping every other field right — so the receipt
 * passes every check a client can make without re-executing (signer, invocation fields, output,
 * state, cumulativeGas = ackedGas + callGas). It pushes its receipts to the settlement API like an
 * honest runner. Only re-execution (the client's verify mode) exposes it.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Domain } from '../../contracts/eip712/index.ts';
import { recoverInvocationRequestSigner, settlementReceipt, signReceipt } from '../../contracts/eip712/index.ts';
import { ZgasError } from '../../contracts/errors.ts';
import { contextSeed, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes, sameAddress } from '../../contracts/hex.ts';
import { invocationFromJson, receiptToJson, writesToJson } from '../../contracts/json.ts';
import type { Hash, SettlementReceipt, StateWrite } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { executeCall } from '../../unikernel-runner/runtime/execute.ts';
import { hostPrices, prepareModule } from '../../unikernel-runner/runtime/prepare.ts';
import { HashedState } from '../../unikernel-runner/runtime/hashed-state.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import type { SettlementClient } from '../client/index.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../../unikernel-runner/runtime/state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from '../../unikernel-runner/runtime/execute.ts';

export interface DishonestRunnerOptions {
  api: SettlementClient;
  domain: Domain;
  /** The dishonest provider's receipt-signing key. */
  receiptKey: string;
  /** Gas added to what each call really used (never past its callGasLimit). */
  extraGas: bigint;
}

interface Served {
  /** Advanced in place by each Ok call. */
  state: HashedState;
  last: SettlementReceipt | null;
}

export interface DishonestRunner {
  url: string;
  /** Every receipt it signed, in order. */
  receipts: SettlementReceipt[];
  close(): Promise<void>;
}

export async function startDishonestRunner(opts: DishonestRunnerOptions): Promise<DishonestRunner> {
  const table = gasTableByName();
  const prices = hostPrices(table);
  const sessions = new Map<Hash, Served>();
  const receipts: SettlementReceipt[] = [];
  const app: FastifyInstance = Fastify();
  app.setErrorHandler(async (error: unknown, _request, reply) => {
    if (error instanceof ZgasError) return reply.status(error.status).send({ code: error.code, message: error.message });
    return reply.status(500).send({ code: 'Internal', message: error instanceof Error ? error.message : String(error) });
  });

  app.post('/v1/sessions/:id/calls', async (request) => {
    const invocation = invocationFromJson(request.body);
    const session = await opts.api.session(invocation.sessionId);
    if (!sameAddress(recoverInvocationRequestSigner(opts.domain, invocation), session.user)) throw new ZgasError('NotSessionUser', {});
    const served = sessions.get(invocation.sessionId) ?? { state: HashedState.empty(), last: null };
    const zApp = await opts.api.zApp(session.zAppId);
    const prepared = prepareModule(await opts.api.getModule(zApp.moduleHash as Hash), table);
    const input = hexToBytes(invocation.input);
    const outcome = executeCall(prepared, { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, state: served.state, input, gasLimit: invocation.callGasLimit, seed: contextSeed(invocation.sessionId, invocation.seq) }, prices);
    const inflated = outcome.callGas + opts.extraGas;
    const callGas = gas(inflated < invocation.callGasLimit ? inflated : invocation.callGasLimit);
    const signed = signReceipt(opts.domain, {
      sessionId: invocation.sessionId, seq: invocation.seq, callGasLimit: invocation.callGasLimit, callGas, cumulativeGas: gas(invocation.ackedGas + callGas),
      inputHash: sha3(input), preStateHash: invocation.preStateHash, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: outcome.status,
    }, opts.receiptKey);
    const receipt = settlementReceipt(signed, invocation.signature);
    sessions.set(invocation.sessionId, { state: served.state, last: receipt });
    receipts.push(receipt);
    await opts.api.submitReceipts([receipt]);
    const writes: StateWrite[] = outcome.writes.map(([key, value]) => ({ key, value: value === null ? null : bytesToHex(value) }));
    return { output: bytesToHex(outcome.output), receipt: receiptToJson(receipt), writes: writesToJson(writes) };
  });

  app.get('/v1/sessions/:id/receipts/latest', async (request, reply) => {
    const last = sessions.get((request.params as { id: string }).id.toLowerCase() as Hash)?.last ?? null;
    return last === null ? reply.status(404).send({ code: 'NotFound', message: 'no receipt yet' }) : receiptToJson(last);
  });

  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, receipts, close: () => app.close() };
}
