import { ZgasError } from '../../contracts/errors.ts';
import { apply, prepareCall } from '../../contracts/gas/apply.ts';
import type { InputResult } from '../../contracts/gas/apply.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import type { State } from '../../contracts/gas/state.ts';
import type { Address, Hash, SignedCall } from '../../contracts/types.ts';
import type { Qsr } from '../../contracts/units.ts';
import type { Db } from '../db/db.ts';
import { latestMomentumHead } from '../store/momentums.ts';
import { loadEntities } from '../store/state.ts';

interface Keys {
  accounts: Set<string>;
  zApps: Set<string>;
  providers: Set<string>;
  sessions: Set<string>;
}

const lower = (h: string): Hash => h.toLowerCase() as Hash;

/** The entities a call names directly: its sender, what it creates (its call hash) and the ids in its arguments. */
function namedKeys(from: Address, callHash: Hash, method: ReturnType<typeof prepareCall>['method']): Keys {
  const keys: Keys = { accounts: new Set([from]), zApps: new Set([callHash]), providers: new Set([from]), sessions: new Set([callHash]) };
  switch (method.name) {
    case 'Transfer':
      keys.accounts.add(method.to);
      break;
    case 'SetPolicy':
    case 'SetAutoTopUp':
    case 'TopUp':
    case 'WithdrawEscrow':
      keys.zApps.add(lower(method.zAppId));
      break;
    case 'OpenSession':
      keys.zApps.add(lower(method.zAppId));
      keys.providers.add(method.provider);
      keys.accounts.add(method.user);
      break;
    case 'ExtendSession':
    case 'Abort':
    case 'CloseSession':
    case 'FinalizeSession':
      keys.sessions.add(lower(method.sessionId));
      break;
    case 'Settle':
      for (const r of method.receipts) keys.sessions.add(lower(r.receipt.sessionId));
      break;
    case 'Challenge':
      keys.sessions.add(lower(method.receipt.receipt.sessionId));
      break;
    default:
      break;
  }
  return keys;
}

/**
 * Applies a signed call to the latest committed state without committing anything
 * (docs/protocol.md §Calls to the contract: a call from an account that does not exist yet is
 * refused when it would fail). Only the entities the call can read are loaded — those it names, the
 * zApps, providers and users of the sessions it names, and the owners of those zApps (auto top-up)
 * — in one snapshot; the contract reads nothing else. `timestamp` is the chain time to judge it at.
 * Challenges are judged without re-execution (a sender with nothing cannot put up the bond anyway).
 * Returns the contract's result.
 */
export async function dryRunCall(db: Db, domain: Domain, base: () => State, signed: SignedCall, timestamp: () => bigint): Promise<InputResult> {
  const input = prepareCall(domain, signed);
  const keys = namedKeys(input.from, lower(input.callHash), input.method);
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const head = await latestMomentumHead(tx);
    // Nothing to judge against before the genesis is committed: a retryable refusal, not a verdict.
    if (head === null) throw new ZgasError('NotReady', { reason: 'the genesis is not committed yet' });
    const first = await loadEntities(tx, base(), keys);
    for (const s of first.sessions.values()) {
      keys.zApps.add(s.zAppId);
      keys.providers.add(s.provider);
      keys.accounts.add(s.user);
    }
    const second = await loadEntities(tx, base(), keys);
    for (const z of second.zApps.values()) keys.accounts.add(z.owner);
    const state = await loadEntities(tx, base(), keys);
    // A sender with calls stored ahead of this one is judged as if they had moved its nonce.
    if (input.nonce > 0n && !state.accounts.has(input.from)) state.accounts.set(input.from, { balance: 0n as Qsr, nonce: input.nonce });
    const now = timestamp();
    const latest = head?.timestamp ?? 0n;
    const height = (head?.height ?? 0n) + 1n;
    return apply(state, input, { height, timestamp: now > latest ? now : latest }).result;
  });
}
