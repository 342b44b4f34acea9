// Building blocks for the gas contract's tests and benchmarks: a funded genesis with public test
// keys, signed calls and receipts through the real EIP-712 path, and a deterministic re-executor.
import { encodeMethod } from '../abi/index.ts';
import { addressOf, makeDomain, signCall, signReceipt, verifyReceipt } from '../eip712/index.ts';
import type { Domain } from '../eip712/index.ts';
import { EMPTY_STATE_HASH, sha3 } from '../hash.ts';
import { bytesToHex, concatBytes, hexToBytes, u64be } from '../hex.ts';
import { CallStatus } from '../types.ts';
import type { Address, GasReceipt, Hash, Hex, Method, SignedReceipt, VerifiedReceipt } from '../types.ts';
import { wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { apply } from './apply.ts';
import type { ApplyOutput, Context } from './apply.ts';
import { genesisState, parseGenesis } from './genesis.ts';
import { prepareCall as prepareCallForTest } from './prepare.ts';
import type { Genesis } from './genesis.ts';
import type { Reexecutor, RerunRequest, RerunResult } from './reexecutor.ts';
import type { Session, State } from './state.ts';

/** Public test keys (the first four are those of the golden vectors). */
export const TEST_KEYS = {
  owner: '0x1111111111111111111111111111111111111111111111111111111111111111',
  provider: '0x2222222222222222222222222222222222222222222222222222222222222222',
  receiptSigner: '0x3333333333333333333333333333333333333333333333333333333333333333',
  user: '0x4444444444444444444444444444444444444444444444444444444444444444',
  other: '0x5555555555555555555555555555555555555555555555555555555555555555',
  provider2: '0x6666666666666666666666666666666666666666666666666666666666666666',
  signer2: '0x7777777777777777777777777777777777777777777777777777777777777777',
} as const;
export type KeyName = keyof typeof TEST_KEYS;
export const ADDR = Object.fromEntries(Object.entries(TEST_KEYS).map(([k, v]) => [k, addressOf(v as Hex)])) as Record<KeyName, Address>;

export const TEST_CHAIN_ID = 73405n;
export const TEST_CONTRACT = '0x00000000000000000000000000000000007a6761';
export const T0 = 1_700_000_000n;

export function testGenesis(overrides: Record<string, unknown> = {}): Genesis {
  return parseGenesis({
    chainId: TEST_CHAIN_ID.toString(), contract: TEST_CONTRACT, timestamp: T0.toString(),
    accounts: (['owner', 'provider', 'user', 'other', 'provider2'] as const).map((k) => ({ address: ADDR[k], balance: wholeQsr(1_000_000).toString() })),
    ...overrides,
  });
}

// ── a deterministic stand-in for the runner's re-executor ───────────────────────────────
/** Gas the fake "module" needs for an input: 1,000 + 100 per input byte. */
export const fakeGasNeeded = (input: Uint8Array): bigint => 1_000n + 100n * BigInt(input.length);

export function fakeRun(preState: Uint8Array, input: Uint8Array, gasLimit: bigint): RerunResult {
  const needed = fakeGasNeeded(input);
  if (needed > gasLimit) return { callGas: gasLimit as Gas, postStateHash: sha3(preState), outputHash: sha3(new Uint8Array(0)), status: CallStatus.OutOfGas };
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

/** A test chain: state, clock and the four parties, driving apply through signed calls. */
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
    return apply(this.state, prepareCallForTest(this.domain, signed), this.context());
  }

  /** Like `call`, but throws unless the call succeeded; returns what it created, if anything. */
  ok(key: KeyName, method: Method): ApplyOutput {
    const out = this.call(key, method);
    if (!out.result.ok) throw new Error(`${method.name} failed: ${out.result.code} ${JSON.stringify(out.result.details, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    return out;
  }

  settle(receipts: VerifiedReceipt[]): ApplyOutput {
    return apply(this.state, { kind: 'receipts', receipts }, this.context());
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
  setup(opts: { price?: bigint; upfrontGas?: bigint; fund?: bigint; openToAll?: boolean; userGasPerDay?: bigint; maxGasPerSession?: bigint } = {}): Hash {
    const z = this.ok('owner', { name: 'RegisterZApp', moduleHash: FAKE_MODULE_HASH, maxPricePerMgas: wholeQsr(10), maxGasPerSession: (opts.maxGasPerSession ?? 1_000_000_000n) as Gas, openToAll: opts.openToAll ?? false, userGasPerDay: (opts.userGasPerDay ?? 0n) as Gas });
    const zAppId = z.result.ok ? z.result.created! : (undefined as never);
    this.ok('owner', { name: 'TopUp', zAppId, amount: (opts.fund ?? wholeQsr(1_000)) as Qsr });
    this.ok('provider', { name: 'RegisterProvider', receiptSigner: ADDR.receiptSigner, pricePerMgas: (opts.price ?? 1_000_000n) as Qsr, upfrontGas: (opts.upfrontGas ?? 10_000n) as Gas, stake: wholeQsr(10_000) });
    return zAppId;
  }

  open(zAppId: Hash, gasLimit = 1_000_000n, durationSeconds = 3_600n, by: KeyName = 'owner', user: Address = ADDR.user): Hash {
    const out = this.ok(by, { name: 'OpenSession', zAppId, provider: ADDR.provider, user, gasLimit: gasLimit as Gas, durationSeconds });
    return out.result.ok ? out.result.created! : (undefined as never);
  }
}

/** An honest runner for one session: runs fake calls and signs their receipts. */
export class FakeRunner {
  private preState: Uint8Array = new Uint8Array(0);
  seq = 0n;
  cumulative = 0n;
  /** Inputs and pre-states by seq, as a user keeps them to challenge. */
  readonly history = new Map<bigint, { input: Uint8Array; preState: Uint8Array; receipt: SignedReceipt }>();

  constructor(readonly world: World, readonly sessionId: Hash, readonly signerKey: Hex = TEST_KEYS.receiptSigner) {}

  /** Runs one call with `inputBytes` bytes of input; returns the signed receipt. */
  run(inputBytes = 8, tamper?: (r: GasReceipt) => GasReceipt): SignedReceipt {
    const s = this.world.session(this.sessionId);
    this.seq += 1n;
    const input = new Uint8Array(inputBytes).fill(Number(this.seq % 251n));
    const left = s.gasLimit - this.cumulative;
    const out = fakeRun(this.preState, input, left);
    this.cumulative += out.callGas;
    let receipt: GasReceipt = {
      sessionId: this.sessionId, seq: this.seq, callGas: out.callGas, cumulativeGas: this.cumulative as Gas,
      inputHash: sha3(input), preStateHash: this.preState.length === 0 ? EMPTY_STATE_HASH : sha3(this.preState),
      postStateHash: out.postStateHash, outputHash: out.outputHash, status: out.status,
    };
    if (tamper) receipt = tamper(receipt);
    const signed = signReceipt(this.world.domain, receipt, this.signerKey);
    this.history.set(this.seq, { input, preState: this.preState, receipt: signed });
    if (out.status === CallStatus.Ok) this.preState = concatBytes(this.preState, input);
    return signed;
  }

  verified(r: SignedReceipt): VerifiedReceipt {
    return verifyReceipt(this.world.domain, r);
  }
}

/** Builds a VerifiedReceipt without a signature (for fast property tests): digest = SHA3 of the fields. */
export function unsignedVerified(r: GasReceipt, signer: Address): VerifiedReceipt {
  const digest = sha3(concatBytes(hexToBytes(r.sessionId), u64be(r.seq), u64be(r.callGas), u64be(r.cumulativeGas), hexToBytes(r.inputHash), hexToBytes(r.preStateHash), hexToBytes(r.postStateHash), hexToBytes(r.outputHash), new Uint8Array([r.status])));
  return { receipt: { ...r, signature: bytesToHex(new Uint8Array(65)) }, signer, digest };
}
