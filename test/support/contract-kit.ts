// Building blocks for the gas contract's tests: a funded genesis with public test keys, signed calls
// and v2 settlement receipts through the real EIP-712 path, and a deterministic re-executor.
import { encodeMethod } from '../../contracts/abi/index.ts';
import { addressOf, makeDomain, signCall, signInvocation, signReceipt, settlementReceipt, verifyReceipt } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { apply } from '../../contracts/gas/apply.ts';
import type { ApplyOutput, Context } from '../../contracts/gas/apply.ts';
import { genesisState, parseGenesis } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { prepareCall } from '../../contracts/gas/prepare.ts';
import type { Reexecutor, RerunRequest, RerunResult } from '../../contracts/gas/reexecutor.ts';
import type { Session, State } from '../../contracts/gas/state.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, concatBytes, hexToBytes, u64be } from '../../contracts/hex.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, GasReceipt, Hash, Hex, Method, SettlementReceipt, VerifiedReceipt } from '../../contracts/types.ts';
import { MAX_UINT256, MAX_UINT64, wholeQsr } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';

/** Public test keys (the first four are those of the golden vectors). */
export const TEST_KEYS = {
  owner: '0x1111111111111111111111111111111111111111111111111111111111111111',
  provider: '0x2222222222222222222222222222222222222222222222222222222222222222',
  receiptSigner: '0x3333333333333333333333333333333333333333333333333333333333333333',
  user: '0x4444444444444444444444444444444444444444444444444444444444444444',
  other: '0x5555555555555555555555555555555555555555555555555555555555555555',
  provider2: '0x6666666666666666666666666666666666666666666666666666666666666666',
  signer2: '0x7777777777777777777777777777777777777777777777777777777777777777',
  user2: '0x8888888888888888888888888888888888888888888888888888888888888888',
} as const;
export type KeyName = keyof typeof TEST_KEYS;
export const ADDR = Object.fromEntries(Object.entries(TEST_KEYS).map(([k, v]) => [k, addressOf(v as Hex)])) as Record<KeyName, Address>;

export const TEST_CHAIN_ID = 73405n;
export const TEST_CONTRACT = '0x00000000000000000000000000000000007a6761';
export const T0 = 1_700_000_000n;
/** What every funded test account starts with. */
export const START_BALANCE = wholeQsr(1_000_000);

export function testGenesis(overrides: Record<string, unknown> = {}): Genesis {
  return parseGenesis({
    chainId: TEST_CHAIN_ID.toString(), contract: TEST_CONTRACT, timestamp: T0.toString(),
    accounts: (['owner', 'provider', 'user', 'other', 'provider2'] as const).map((k) => ({ address: ADDR[k], balance: START_BALANCE.toString() })),
    ...overrides,
  });
}

// ── a deterministic stand-in for the runner's re-executor ───────────────────────────────
/** Gas the fake "module" needs for an input: 1,000 + 100 per input byte. */
export const fakeGasNeeded = (input: Uint8Array): bigint => 1_000n + 100n * BigInt(input.length);
export const EMPTY_OUTPUT_HASH = sha3(new Uint8Array(0));

/** The fake module: appends the input to the state, outputs the input; runs out of gas below fakeGasNeeded. */
export function fakeRun(preState: Uint8Array, input: Uint8Array, gasLimit: bigint): RerunResult {
  const needed = fakeGasNeeded(input);
  const preHash = preState.length === 0 ? EMPTY_STATE_HASH : sha3(preState);
  if (needed > gasLimit) return { callGas: gasLimit as Gas, postStateHash: preHash, outputHash: EMPTY_OUTPUT_HASH, status: CallStatus.OutOfGas };
  return { callGas: needed as Gas, postStateHash: sha3(concatBytes(preState, input)), outputHash: sha3(input), status: CallStatus.Ok };
}

export class FakeReexecutor implements Reexecutor {
  readonly calls: RerunRequest[] = [];
  rerun(request: RerunRequest): RerunResult {
    this.calls.push(request);
    return fakeRun(request.preState, request.input, request.gasLimit);
  }
}

export const FAKE_MODULE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
export const FAKE_MODULE_HASH = sha3(FAKE_MODULE);
/** Signer-side caps an OpenSession accepts from any offer (tests of OfferChanged set their own). */
export const ANY_PRICE = MAX_UINT256 as Qsr;
export const ANY_UPFRONT = MAX_UINT64 as Gas;

const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

/** A test chain: state, clock and the parties, driving apply through signed calls. */
export class World {
  readonly domain: Domain;
  readonly state: State;
  now: bigint;
  height = 0n;
  readonly reexecutor = new FakeReexecutor();
  modules = new Map<Hash, Uint8Array>([[FAKE_MODULE_HASH, FAKE_MODULE]]);

  constructor(genesis: Genesis = testGenesis()) {
    this.domain = makeDomain(genesis.chainId, genesis.contract);
    this.state = genesisState(genesis);
    this.now = genesis.timestamp;
  }

  context(): Context {
    return { height: ++this.height, timestamp: this.now, reexecutor: this.reexecutor, loadModule: (h) => this.modules.get(h) };
  }

  nonceOf(who: Address): bigint {
    return this.state.accounts.get(who)?.nonce ?? 0n;
  }

  /** Signs `method` as `key` with its next nonce (or `nonce`), verifies it like the API, applies it. */
  call(key: KeyName, method: Method, nonce?: bigint): ApplyOutput {
    const from = ADDR[key];
    const signed = signCall(this.domain, { from, nonce: nonce ?? this.nonceOf(from), data: encodeMethod(method) }, TEST_KEYS[key]);
    return apply(this.state, prepareCall(this.domain, signed), this.context());
  }

  /** Like `call`, but throws unless the call succeeded. */
  ok(key: KeyName, method: Method): ApplyOutput {
    const out = this.call(key, method);
    if (!out.result.ok) throw new Error(`${method.name} failed: ${out.result.code} ${json(out.result.details)}`);
    return out;
  }

  /** Like `call`, but expects the failure `code`; returns the output. */
  fails(key: KeyName, method: Method, code: string): ApplyOutput {
    const out = this.call(key, method);
    if (out.result.ok || out.result.code !== code) throw new Error(`${method.name}: expected ${code}, got ${out.result.ok ? 'ok' : `${out.result.code} ${json(out.result.details)}`}`);
    return out;
  }

  /** An anonymous Settle batch (the settlement pipeline's input). */
  settle(receipts: Array<VerifiedReceipt | SettlementReceipt>): ApplyOutput {
    const verified = receipts.map((r) => ('receipt' in r ? r : verifyReceipt(this.domain, r)));
    return apply(this.state, { kind: 'receipts', receipts: verified }, this.context());
  }

  session(id: Hash): Session {
    const s = this.state.sessions.get(id);
    if (s === undefined) throw new Error(`no session ${id}`);
    return s;
  }

  balance(who: Address): bigint {
    return this.state.accounts.get(who)?.balance ?? 0n;
  }

  /** Owner registers a zApp and funds it; provider registers; returns the zApp id. */
  setup(opts: { price?: bigint; upfrontGas?: bigint; fund?: bigint; openToAll?: boolean; openGasPerDay?: bigint; maxGasPerSession?: bigint } = {}): Hash {
    const z = this.ok('owner', { name: 'RegisterZApp', moduleHash: FAKE_MODULE_HASH, maxPricePerMgas: wholeQsr(10), maxGasPerSession: (opts.maxGasPerSession ?? 1_000_000_000n) as Gas, openToAll: opts.openToAll ?? false, openGasPerDay: (opts.openGasPerDay ?? 0n) as Gas });
    const zAppId = z.result.ok ? z.result.created! : (undefined as never);
    this.ok('owner', { name: 'TopUp', zAppId, amount: (opts.fund ?? wholeQsr(1_000)) as Qsr });
    if (!this.state.providers.has(ADDR.provider)) {
      this.ok('provider', { name: 'RegisterProvider', receiptSigner: ADDR.receiptSigner, pricePerMgas: (opts.price ?? 1_000_000n) as Qsr, upfrontGas: (opts.upfrontGas ?? 10_000n) as Gas, stake: wholeQsr(10_000) });
    }
    return zAppId;
  }

  /** Opens a session with the provider (by the owner unless `by` says otherwise); returns its id. */
  open(zAppId: Hash, gasLimit = 1_000_000n, durationSeconds = 3_600n, by: KeyName = 'owner', user: Address = ADDR.user, provider: Address = ADDR.provider): Hash {
    const out = this.ok(by, { name: 'OpenSession', zAppId, provider, user, gasLimit: gasLimit as Gas, durationSeconds, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT });
    return out.result.ok ? out.result.created! : (undefined as never);
  }
}

export interface RunOptions {
  /** The call's limit (default: what the session has left after the acknowledged gas). */
  callGasLimit?: bigint;
  /** The provider changes the receipt after the user signed the honest invocation. */
  tamper?: (r: GasReceipt) => GasReceipt;
  /** Whether the user signs the invocation of the tampered receipt instead (a user who went along). */
  userSignsTampered?: boolean;
  /** Who signs the invocation (default: the session's user key). */
  invocationKey?: Hex;
  /** Stop the call after this much gas: an Aborted receipt (the session must have been aborted to settle it). */
  abortAfterGas?: bigint;
}

/** One call as the user keeps it: what it needs to challenge the receipt. */
export interface CallRecord {
  input: Uint8Array;
  preState: Uint8Array;
  receipt: SettlementReceipt;
}

/**
 * An honest runner and its user for one session: the user signs each invocation (acknowledging the
 * previous receipt), the runner runs the fake module and signs the receipt.
 */
export class FakeRunner {
  private preState: Uint8Array = new Uint8Array(0);
  seq = 0n;
  cumulative = 0n;
  /** Inputs and pre-states by seq, as a user keeps them to challenge. */
  readonly history = new Map<bigint, CallRecord>();

  constructor(
    readonly world: World,
    readonly sessionId: Hash,
    readonly signerKey: Hex = TEST_KEYS.receiptSigner,
    readonly userKey: Hex = TEST_KEYS.user,
  ) {}

  /** Runs one call with `inputBytes` bytes of input; returns the settlement receipt. */
  run(inputBytes = 8, opts: RunOptions = {}): SettlementReceipt {
    const s = this.world.state.sessions.get(this.sessionId);
    this.seq += 1n;
    const input = new Uint8Array(inputBytes).fill(Number(this.seq % 251n));
    const callGasLimit = (opts.callGasLimit ?? (s === undefined ? 1_000_000n : s.gasLimit - this.cumulative)) as Gas;
    const preStateHash = this.preState.length === 0 ? EMPTY_STATE_HASH : sha3(this.preState);
    let out = fakeRun(this.preState, input, callGasLimit);
    if (opts.abortAfterGas !== undefined && out.callGas > opts.abortAfterGas) {
      out = { callGas: opts.abortAfterGas as Gas, postStateHash: preStateHash, outputHash: EMPTY_OUTPUT_HASH, status: CallStatus.Aborted };
    }
    const honest: GasReceipt = {
      sessionId: this.sessionId, seq: this.seq, callGasLimit, callGas: out.callGas, cumulativeGas: (this.cumulative + out.callGas) as Gas,
      inputHash: sha3(input), preStateHash,
      postStateHash: out.postStateHash, outputHash: out.outputHash, status: out.status,
    };
    const receipt = opts.tamper ? opts.tamper(honest) : honest;
    const userKey = opts.invocationKey ?? this.userKey;
    const invocationSignature = signInvocation(this.world.domain, invocationOf(opts.userSignsTampered ? receipt : honest), userKey);
    const signed = settlementReceipt(signReceipt(this.world.domain, receipt, this.signerKey), invocationSignature);
    this.history.set(this.seq, { input, preState: this.preState, receipt: signed });
    this.cumulative += out.callGas;
    if (out.status === CallStatus.Ok) this.preState = concatBytes(this.preState, input);
    return signed;
  }

  verified(r: SettlementReceipt): VerifiedReceipt {
    return verifyReceipt(this.world.domain, r);
  }

  /** The Challenge method for the receipt of `seq` (with the input and pre-state the user kept). */
  challenge(seq: bigint, receipt?: SettlementReceipt): Method {
    const c = this.history.get(seq);
    if (c === undefined) throw new Error(`no call ${seq}`);
    return { name: 'Challenge', receipt: receipt ?? c.receipt, input: bytesToHex(c.input), preState: bytesToHex(c.preState) };
  }
}

/**
 * A VerifiedReceipt without signatures (for fast property tests): the digest is SHA3 of the ten
 * fields, the signers are given.
 */
export function unsignedVerified(r: GasReceipt, signer: Address, invocationSigner: Address): VerifiedReceipt {
  const digest = sha3(concatBytes(hexToBytes(r.sessionId), u64be(r.seq), u64be(r.callGasLimit), u64be(r.callGas), u64be(r.cumulativeGas), hexToBytes(r.inputHash), hexToBytes(r.preStateHash), hexToBytes(r.postStateHash), hexToBytes(r.outputHash), new Uint8Array([r.status])));
  const zero = bytesToHex(new Uint8Array(65));
  return { receipt: { ...r, signature: zero, invocationSignature: zero }, signer, invocationSigner, digest };
}
