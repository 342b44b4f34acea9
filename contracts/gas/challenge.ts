import { ZgasError } from '../errors.ts';
import { contextSeed, sha3 } from '../hash.ts';
import { hexToBytes, parseHash } from '../hex.ts';
import { CallStatus } from '../types.ts';
import type { Address, Hash, Hex, VerifiedReceipt } from '../types.ts';
import type { Gas, Qsr } from '../units.ts';
import type { Context } from './input.ts';
import { MAX_JUDGED_SEQS_PER_SESSION } from './limits.ts';
import { credit, debit, proveFraud } from './ops.ts';
import { receiptProblem } from './receipt-rules.ts';
import type { RerunResult } from './reexecutor.ts';
import type { GenesisParams, Session } from './state.ts';
import type { Tx } from './tx.ts';

/** How a Challenge was judged: fraud (the provider slashed) or upheld (the bond went to the provider). */
export type ChallengeOutcome =
  | { outcome: 'Fraud'; sessionId: Hash; seq: bigint; slashed: Qsr }
  | { outcome: 'Upheld'; sessionId: Hash; seq: bigint; bond: Qsr };

/**
 * Until when the receipt with `seq` can be challenged (docs/contract.md §Challenge deadlines): the
 * deadline of the first settlement that covered it; when none did, `challengeWindowSeconds` after
 * the session was finalized; null while it can be challenged with no deadline yet (not covered,
 * session not final). Receipts at or below the coverage floor were covered by settlements whose
 * deadline has passed.
 */
export function receiptChallengeDeadline(s: Readonly<Session>, seq: bigint, params: GenesisParams): bigint | null {
  if (seq <= s.coverageFloorSeq) return 0n;
  for (const c of s.coverage) if (c.upToSeq >= seq) return c.challengeDeadline;
  return s.finalizedAt === null ? null : s.finalizedAt + params.challengeWindowSeconds;
}

function bytesWithin(hex: Hex, max: bigint, what: string): Uint8Array {
  if (typeof hex !== 'string' || BigInt(hex.length) > 2n + 2n * max) throw new ZgasError('LimitExceeded', { what, maxBytes: max.toString() });
  return hexToBytes(hex);
}

/** Whether re-execution disproves the receipt. */
function disproves(r: VerifiedReceipt['receipt'], rerun: RerunResult): boolean {
  // An Aborted receipt (pre-state kept, no output: its shape) claims only that the call does not finish within callGas.
  if (r.status === CallStatus.Aborted) return rerun.status !== CallStatus.OutOfGas;
  return rerun.callGas !== r.callGas || rerun.status !== r.status
    || rerun.postStateHash.toLowerCase() !== r.postStateHash.toLowerCase()
    || rerun.outputHash.toLowerCase() !== r.outputHash.toLowerCase();
}

/**
 * Judges a Challenge (docs/contract.md §Judging). Anything that keeps the receipt from being judged
 * is an error (only the sender's nonce moves). Judged: re-execution under the receipt's own
 * callGasLimit either disproves it — the provider is slashed, the challenger keeps its bond and
 * gets the reward — or upholds it — the bond goes to the provider and the seq is not judged again.
 */
export function judgeChallenge(tx: Tx, from: Address, vr: VerifiedReceipt, inputHex: Hex, preStateHex: Hex, context: Context): ChallengeOutcome {
  const r = vr.receipt;
  const id = parseHash(r.sessionId);
  const s = tx.getSession(id);
  if (s === undefined) throw new ZgasError('SessionNotFound', { sessionId: id });
  const problem = receiptProblem(vr, s);
  if (problem !== null) throw new ZgasError(problem, { sessionId: id, seq: r.seq.toString() });
  const { params } = tx.state;
  const closed = (reason: string): never => { throw new ZgasError('ChallengeWindowClosed', { sessionId: id, seq: r.seq.toString(), reason }); };
  if (s.slashed) closed('the session was already slashed');
  if (s.judgedSeqs.includes(r.seq)) throw new ZgasError('AlreadyJudged', { sessionId: id, seq: r.seq.toString() });
  const deadline = receiptChallengeDeadline(s, r.seq, params);
  if (deadline !== null && tx.now >= deadline) closed(`the deadline ${deadline} has passed`);
  const bond = params.challengeBond;
  const balance = tx.getAccount(from)?.balance ?? 0n;
  if (balance < bond) throw new ZgasError('InsufficientBalance', { address: from, balance: balance.toString(), amount: bond.toString(), what: 'challengeBond' });

  const input = bytesWithin(inputHex, params.maxInputBytes, 'challenge input bytes');
  const preState = bytesWithin(preStateHex, params.maxStateBytes, 'challenge pre-state bytes');
  if (sha3(preState) !== r.preStateHash.toLowerCase()) throw new ZgasError('PreStateMismatch', { preStateHash: r.preStateHash });
  if (sha3(input) !== r.inputHash.toLowerCase()) throw new ZgasError('InputMismatch', { inputHash: r.inputHash });
  const z = tx.getZApp(s.zAppId)!;
  const module = context.loadModule?.(z.moduleHash);
  if (context.reexecutor === undefined || module === undefined) throw new ZgasError('ModuleUnavailable', { moduleHash: z.moduleHash, reexecutor: context.reexecutor !== undefined });
  if (sha3(module) !== z.moduleHash) throw new ZgasError('ModuleUnavailable', { moduleHash: z.moduleHash, reason: 'the bytes do not hash to moduleHash' });

  // The user signed callGasLimit: nothing done later (ExtendSession) changes how the call is judged.
  const gasLimit = (r.status === CallStatus.Aborted ? r.callGas : r.callGasLimit) as Gas;
  const rerun = context.reexecutor.rerun({
    module, moduleHash: z.moduleHash, preState, input, gasLimit, seed: contextSeed(id, r.seq), maxStateBytes: Number(params.maxStateBytes), maxInputBytes: Number(params.maxInputBytes),
  });
  const digest = vr.digest.toLowerCase() as Hash;
  if (disproves(r, rerun)) return { outcome: 'Fraud', sessionId: id, seq: r.seq, slashed: proveFraud(tx, id, 'challenge', digest, from) };

  debit(tx, from, bond);
  credit(tx, s.provider, bond);
  const d = tx.session(id);
  d.judgedSeqs = [...d.judgedSeqs.slice(d.judgedSeqs.length >= MAX_JUDGED_SEQS_PER_SESSION ? 1 : 0), r.seq];
  tx.emit({ type: 'ChallengeFailed', sessionId: id, seq: r.seq, receipt: digest, challenger: from, provider: s.provider, bond });
  return { outcome: 'Upheld', sessionId: id, seq: r.seq, bond };
}
