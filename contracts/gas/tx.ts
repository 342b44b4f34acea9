import { assert } from '../errors.ts';
import type { Address, Hash } from '../types.ts';
import { MAX_UINT256 } from '../units.ts';
import type { Qsr } from '../units.ts';
import type { ContractEvent } from './events.ts';
import { enqueueRemoval } from './removal.ts';
import { checkCoveredByProvider, checkProvider, checkSession, checkZApp, outstanding } from './invariants.ts';
import { zAppValue, providerValue } from './state.ts';
import type { Account, Provider, Session, State, ZApp } from './state.ts';

/** A field-by-field copy (one hidden class for every session draft; the lists are copied). */
function cloneSession(s: Session): Session {
  return {
    zAppId: s.zAppId, provider: s.provider, user: s.user, openedByOwner: s.openedByOwner, price: s.price,
    receiptSigner: s.receiptSigner, gasLimit: s.gasLimit, hold: s.hold, upfrontGas: s.upfrontGas, settledGas: s.settledGas,
    billedGas: s.billedGas, lastSeq: s.lastSeq, lastReceiptHash: s.lastReceiptHash, lastPostStateHash: s.lastPostStateHash,
    lastInvocation: s.lastInvocation, coverageFloorSeq: s.coverageFloorSeq, coverage: s.coverage.slice(),
    judgedSeqs: s.judgedSeqs.slice(), status: s.status, stopCall: s.stopCall, slashed: s.slashed, openedAt: s.openedAt,
    expiresAt: s.expiresAt, closesAt: s.closesAt, finalizedAt: s.finalizedAt, removeAt: s.removeAt,
  };
}

/**
 * A session's fields in a fixed order: bit i of a field mask (`sessionFieldMask`) stands for
 * SESSION_FIELDS[i]. Settling a receipt changes a handful of them; the host writes only those.
 */
export const SESSION_FIELDS = [
  'zAppId', 'provider', 'user', 'openedByOwner', 'price', 'receiptSigner', 'gasLimit', 'hold', 'upfrontGas', 'settledGas',
  'billedGas', 'lastSeq', 'lastReceiptHash', 'lastPostStateHash', 'lastInvocation', 'coverageFloorSeq', 'coverage',
  'judgedSeqs', 'status', 'stopCall', 'slashed', 'openedAt', 'expiresAt', 'closesAt', 'finalizedAt', 'removeAt',
] as const satisfies readonly (keyof Session)[];

/** The mask naming every session field: a session created (or of unknown change) is written whole. */
export const ALL_SESSION_FIELDS = (1 << SESSION_FIELDS.length) - 1;

function sameField(a: Session, b: Session, field: (typeof SESSION_FIELDS)[number]): boolean {
  switch (field) {
    case 'lastInvocation': {
      const x = a.lastInvocation;
      const y = b.lastInvocation;
      if (x === null || y === null) return x === y;
      return x.callGasLimit === y.callGasLimit && x.inputHash === y.inputHash && x.preStateHash === y.preStateHash && x.ackedGas === y.ackedGas;
    }
    case 'coverage':
      return a.coverage.length === b.coverage.length && a.coverage.every((c, i) => c.upToSeq === b.coverage[i]!.upToSeq && c.challengeDeadline === b.coverage[i]!.challengeDeadline);
    case 'judgedSeqs':
      return a.judgedSeqs.length === b.judgedSeqs.length && a.judgedSeqs.every((q, i) => q === b.judgedSeqs[i]);
    default:
      return a[field] === b[field];
  }
}

/** The fields (bits of SESSION_FIELDS) in which two versions of a session differ. */
export function sessionFieldMask(before: Session, after: Session): number {
  let mask = 0;
  for (let i = 0; i < SESSION_FIELDS.length; i++) if (!sameField(before, after, SESSION_FIELDS[i]!)) mask |= 1 << i;
  return mask;
}

/** Keys of the entities an input changed: what the host must persist (`burned`: whether the state's burned total moved). */
export interface Changed {
  accounts: Set<Address>;
  zApps: Set<Hash>;
  providers: Set<Address>;
  /** Sessions written or removed (a removed one is no longer in the state: its row is deleted). */
  sessions: Set<Hash>;
  /**
   * Per session of `sessions`, the fields that changed (a mask over SESSION_FIELDS; a session
   * absent here counts as wholly changed, as a created one is). A session named in `sessions`
   * with mask 0 was touched but ended as it was.
   */
  sessionFields: Map<Hash, number>;
  /** Closed sessions removed from the state because their removeAt came (also listed in `sessions`). */
  removedSessions: Set<Hash>;
  /**
   * Pending earnings entries written or removed (`pendingKey`): a provider's list can hold many
   * entries, of which an input touches a few, so the host writes and digests only these.
   */
  pendingEarnings: Set<PendingKey>;
  burned: boolean;
}

/** A pending earnings entry's identity: `provider/claimableAt/sessionId` (claimableAt in decimal). */
export type PendingKey = `${Address}/${string}/${Hash}`;

export const pendingKey = (provider: Address, claimableAt: bigint, sessionId: Hash): PendingKey => `${provider}/${claimableAt.toString()}/${sessionId}`;

/** The parts of a pending key. */
export function parsePendingKey(key: PendingKey): { provider: Address; claimableAt: bigint; sessionId: Hash } {
  const [provider, claimableAt, sessionId] = key.split('/') as [Address, string, Hash];
  return { provider, claimableAt: BigInt(claimableAt), sessionId };
}

export const noChanges = (): Changed => ({ accounts: new Set(), zApps: new Set(), providers: new Set(), sessions: new Set(), sessionFields: new Map(), removedSessions: new Set(), pendingEarnings: new Set(), burned: false });

/**
 * One input's view of the state. Accounts, zApps and providers are copy-on-write: writes go to
 * copies of only the entities touched, swapped in by `commit`. Sessions — touched once per receipt,
 * the hot path — are changed in place after a snapshot of their committed fields is taken;
 * `rollback` restores the snapshots. Either way, an input that fails (`rollback`, or simply not
 * committing copies) leaves the state exactly as it was. `commit` checks the invariants on what
 * changed (O(touched)) against the committed versions.
 */
export class Tx {
  private readonly accounts = new Map<Address, Account>();
  private readonly zApps = new Map<Hash, ZApp>();
  private readonly providers = new Map<Address, Provider>();
  /** Committed sessions changed in place, with their fields as they were. */
  private readonly sessionsBefore = new Map<Hash, Session>();
  private readonly newSessions = new Map<Hash, Session>();
  /** Pending earnings entries this input wrote or removed. */
  private readonly pendingTouched = new Set<PendingKey>();
  /** QSR this input destroys (slashing). */
  private burnedDelta = 0n;
  readonly events: ContractEvent[] = [];

  constructor(readonly state: State, readonly now: bigint) {}

  // ── reads (do not mutate the result) ────────────────────────────────────────────────
  getAccount(a: Address): Readonly<Account> | undefined { return this.accounts.get(a) ?? this.state.accounts.get(a); }
  getZApp(id: Hash): Readonly<ZApp> | undefined { return this.zApps.get(id) ?? this.state.zApps.get(id); }
  getProvider(a: Address): Readonly<Provider> | undefined { return this.providers.get(a) ?? this.state.providers.get(a); }
  getSession(id: Hash): Readonly<Session> | undefined { return this.state.sessions.get(id) ?? this.newSessions.get(id); }

  // ── writable drafts ─────────────────────────────────────────────────────────────────
  /** The account's draft, created at zero if it does not exist. */
  account(a: Address): Account {
    let d = this.accounts.get(a);
    if (d === undefined) {
      const base = this.state.accounts.get(a);
      d = base === undefined ? { balance: 0n as Qsr, nonce: 0n } : { ...base };
      this.accounts.set(a, d);
    }
    return d;
  }

  zApp(id: Hash): ZApp {
    let d = this.zApps.get(id);
    if (d === undefined) {
      const base = this.state.zApps.get(id);
      assert(base !== undefined, `draft of a missing zApp ${id}`);
      d = { ...base };
      this.zApps.set(id, d);
    }
    return d;
  }

  createZApp(id: Hash, z: ZApp): void {
    assert(this.getZApp(id) === undefined, `zApp ${id} created twice`);
    this.zApps.set(id, z);
  }

  provider(a: Address): Provider {
    let d = this.providers.get(a);
    if (d === undefined) {
      const base = this.state.providers.get(a);
      assert(base !== undefined, `draft of a missing provider ${a}`);
      d = { ...base, unbonding: base.unbonding.slice(), pendingEarnings: base.pendingEarnings.slice() };
      this.providers.set(a, d);
    }
    return d;
  }

  createProvider(a: Address, p: Provider): void {
    assert(this.getProvider(a) === undefined, `provider ${a} created twice`);
    this.providers.set(a, p);
  }

  session(id: Hash): Session {
    const live = this.state.sessions.get(id);
    if (live === undefined) {
      const created = this.newSessions.get(id);
      assert(created !== undefined, `draft of a missing session ${id}`);
      return created;
    }
    if (!this.sessionsBefore.has(id)) this.sessionsBefore.set(id, cloneSession(live));
    return live;
  }

  createSession(id: Hash, s: Session): void {
    assert(this.getSession(id) === undefined, `session ${id} created twice`);
    this.newSessions.set(id, s);
  }

  /** Puts back the committed fields of every session changed in place; call when the input fails. */
  rollback(): void {
    for (const [id, before] of this.sessionsBefore) Object.assign(this.state.sessions.get(id)!, before);
    this.sessionsBefore.clear();
    this.newSessions.clear();
    this.accounts.clear();
    this.zApps.clear();
    this.providers.clear();
    this.pendingTouched.clear();
    this.burnedDelta = 0n;
  }

  /** Records that a provider's pending entry (claimableAt, sessionId) was written or removed. */
  touchPending(provider: Address, claimableAt: bigint, sessionId: Hash): void {
    this.pendingTouched.add(pendingKey(provider, claimableAt, sessionId));
  }

  /** Destroys `amount` (the burned part of a slash): it leaves the live QSR and is added to `burned`. */
  burn(amount: Qsr): void {
    assert(amount >= 0n, 'a negative burn');
    this.burnedDelta += amount;
  }

  emit(event: ContractEvent): void {
    this.events.push(event);
  }

  /** Checks the invariants on the drafts against their committed versions, then swaps them in. */
  commit(): Changed {
    try {
      return this.check();
    } catch (error) {
      this.rollback();
      throw error;
    }
  }

  private check(): Changed {
    const { state } = this;
    let dBalances = 0n;
    let dEscrow = 0n;
    let dProviders = 0n;
    for (const [k, d] of this.accounts) {
      assert(d.balance >= 0n && d.nonce >= 0n, `account ${k}: negative amount`);
      dBalances += d.balance - (state.accounts.get(k)?.balance ?? 0n);
    }
    for (const [k, d] of this.zApps) {
      checkZApp(k, d);
      const base = state.zApps.get(k);
      dEscrow += zAppValue(d) - (base === undefined ? 0n : zAppValue(base));
    }
    for (const [k, d] of this.providers) {
      checkProvider(k, d);
      const base = state.providers.get(k);
      dProviders += providerValue(d) - (base === undefined ? 0n : providerValue(base));
    }
    assert(dBalances + dEscrow + dProviders + this.burnedDelta === 0n, 'conservation: an input created or destroyed QSR');

    // held moves exactly with the outstanding holds of the zApp's sessions; open sessions are counted.
    const heldDelta = new Map<Hash, bigint>();
    const liveDelta = new Map<Address, number>();
    const touched: Array<[Hash, Session, Session | undefined]> = [];
    for (const [k, before] of this.sessionsBefore) touched.push([k, state.sessions.get(k)!, before]);
    for (const [k, created] of this.newSessions) touched.push([k, created, undefined]);
    for (const [k, d, base] of touched) {
      checkSession(k, d, base);
      checkCoveredByProvider(k, d, this.getProvider(d.provider), state.params.challengeWindowSeconds);
      const dh = outstanding(d) - (base === undefined ? 0n : outstanding(base));
      if (dh !== 0n) heldDelta.set(d.zAppId, (heldDelta.get(d.zAppId) ?? 0n) + dh);
      const wasLive = base !== undefined && base.status !== 'closed';
      const isLive = d.status !== 'closed';
      if (wasLive !== isLive) liveDelta.set(d.provider, (liveDelta.get(d.provider) ?? 0) + (isLive ? 1 : -1));
    }
    for (const [k, d] of this.zApps) {
      const dh = d.held - (state.zApps.get(k)?.held ?? 0n);
      assert(dh === (heldDelta.get(k) ?? 0n), `zApp ${k}: held moved without its sessions`);
    }
    for (const [k, dh] of heldDelta) assert(this.zApps.has(k) || dh === 0n, `zApp ${k}: sessions moved without held`);
    for (const [k, d] of this.providers) {
      const dn = d.liveSessions - (state.providers.get(k)?.liveSessions ?? 0);
      assert(dn === (liveDelta.get(k) ?? 0), `provider ${k}: liveSessions miscounted`);
    }
    for (const [k, dn] of liveDelta) assert(this.providers.has(k) || dn === 0, `provider ${k}: session count moved without the provider`);

    const balances = state.totals.balances + dBalances;
    const escrow = state.totals.escrow + dEscrow;
    const providers = state.totals.providers + dProviders;
    const burned = state.burned + this.burnedDelta;
    assert(balances + escrow + providers + burned === state.supply, 'conservation: totals + burned != supply');
    assert(burned <= MAX_UINT256, 'burned out of range');

    const sessionFields = new Map<Hash, number>();
    const changed: Changed = { accounts: new Set(this.accounts.keys()), zApps: new Set(this.zApps.keys()), providers: new Set(this.providers.keys()), sessions: new Set([...this.sessionsBefore.keys(), ...this.newSessions.keys()]), sessionFields, removedSessions: new Set(), pendingEarnings: new Set(this.pendingTouched), burned: this.burnedDelta !== 0n };
    for (const [k, before] of this.sessionsBefore) {
      const s = state.sessions.get(k)!;
      sessionFields.set(k, sessionFieldMask(before, s));
      if (before.status !== 'closed' && s.status === 'closed') enqueueRemoval(state, { removeAt: s.removeAt!, sessionId: k });
    }
    for (const k of this.newSessions.keys()) sessionFields.set(k, ALL_SESSION_FIELDS);
    for (const [k, d] of this.accounts) state.accounts.set(k, d);
    for (const [k, d] of this.zApps) state.zApps.set(k, d);
    for (const [k, d] of this.providers) state.providers.set(k, d);
    for (const [k, d] of this.newSessions) state.sessions.set(k, d);
    state.totals.balances = balances;
    state.totals.escrow = escrow;
    state.totals.providers = providers;
    state.burned = burned as Qsr;
    return changed;
  }
}
