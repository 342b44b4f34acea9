import type { FastifyInstance } from 'fastify';
import { ZgasError } from '../../../contracts/errors.ts';
import { decodeMethod } from '../../../contracts/abi/index.ts';
import { callHash as computeCallHash, recoverCallSigner } from '../../../contracts/eip712/index.ts';
import { sameAddress } from '../../../contracts/hex.ts';
import type { Hash } from '../../../contracts/types.ts';
import { genesisState } from '../../../contracts/gas/genesis.ts';
import type { State } from '../../../contracts/gas/state.ts';
import { systemClock } from '../../../unikernel-runner/clock.ts';
import { dryRunCall } from '../../host/dry-run.ts';
import { claimModule, getAccount, getCall, insertCall, pendingNonce } from '../../store/index.ts';
import type { RouteOptions } from '../deps.ts';
import { callFromBody, callJson, hashParams, openApiSchema, parseRequest } from '../schemas.ts';

/**
 * POST /v1/calls, GET /v1/calls/:hash: signed contract calls for the sequencer
 * (docs/protocol.md §Calls to the contract). Before a call is stored: its signature, its data, its
 * nonce; a RegisterZApp's module must be uploaded (ModuleNotUploaded); and a call from an account
 * that does not exist yet is applied to the latest state without committing and refused with the
 * contract's code when it would fail — a failed call takes its sender's nonce, which would create
 * the account, so keys that hold nothing could otherwise fill the state with accounts.
 */
export async function callRoutes(app: FastifyInstance, { deps, limits }: RouteOptions): Promise<void> {
  const clock = deps.clock ?? systemClock;
  const base = (): State => genesisState(deps.genesis);
  app.post(
    '/v1/calls',
    {
      bodyLimit: limits.callBodyBytes,
      schema: {
        tags: ['calls'],
        summary: 'Submit a signed call { from, nonce, data, signature }; answered 202 once stored',
        body: openApiSchema(callJson),
        response: { 202: { type: 'object', properties: { callHash: { type: 'string' }, duplicate: { type: 'boolean' } } } },
      },
    },
    async (request, reply) => {
      const call = callFromBody(parseRequest(callJson, request.body));
      // Signature first (HighS / InvalidSignature / WrongSigner), then the method, then the nonce.
      const signer = recoverCallSigner(deps.domain, call);
      if (!sameAddress(signer, call.from)) throw new ZgasError('WrongSigner', { from: call.from, signer });
      const method = decodeMethod(call.data);
      if (method.name === 'RegisterZApp' && !(await claimModule(deps.db, method.moduleHash, limits.moduleBounds.ttlMs))) {
        throw new ZgasError('ModuleNotUploaded', { moduleHash: method.moduleHash });
      }
      const hash = computeCallHash(deps.domain, call);
      const expected = await pendingNonce(deps.db, call.from);
      if (call.nonce !== expected) {
        // The same signed call sent again is answered as it was the first time.
        if ((await getCall(deps.db, hash)) !== null) return reply.status(202).send({ callHash: hash, duplicate: true });
        throw new ZgasError('BadNonce', { from: call.from, nonce: call.nonce.toString(), expected: expected.toString() });
      }
      if ((await getAccount(deps.db, call.from)) === null) {
        const result = await dryRunCall(deps.db, deps.domain, base, call, clock);
        if (!result.ok) throw new ZgasError(result.code, { ...result.details, from: call.from, refused: 'the call would fail, and its sender does not exist yet (a failed call would create it)' });
      }
      const outcome = await insertCall(deps.db, call, hash);
      if (outcome === 'accepted') deps.metrics.callsAccepted.inc();
      return reply.status(202).send({ callHash: hash, ...(outcome === 'duplicate' ? { duplicate: true } : {}) });
    },
  );

  app.get(
    '/v1/calls/:hash',
    { schema: { tags: ['calls'], summary: 'Status of a call: pending, applied or failed (with its code)', params: openApiSchema(hashParams) } },
    async (request) => {
      const { hash } = parseRequest(hashParams, request.params);
      const status = await getCall(deps.db, hash.toLowerCase() as Hash);
      if (status === null) throw new ZgasError('NotFound', { callHash: hash });
      return status;
    },
  );
}
