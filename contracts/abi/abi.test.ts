import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { AbiCoder, getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ZgasError } from '../errors.ts';
import { bytesToHex, concatBytes, hexToBytes } from '../hex.ts';
import type { CallStatus, Hex, Method, SettlementReceipt } from '../types.ts';
import type { Gas, Qsr } from '../units.ts';
import { MAX_UINT256, MAX_UINT64 } from '../units.ts';
import {
  MAX_CALL_DATA_BYTES,
  MAX_RECEIPTS_PER_BATCH,
  METHOD_DECLARATIONS,
  METHOD_NAMES,
  RECEIPT_ABI_TYPES,
  RECEIPT_ENCODED_BYTES,
  decodeMethod,
  decodeReceipt,
  encodeMethod,
  encodeReceipt,
  gasContractAbi,
  selectors,
} from './index.ts';

const coder = AbiCoder.defaultAbiCoder();
const arbBytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b));
const arbAddress = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(bytesToHex(b)) as Hex);
const arbU64 = fc.bigInt({ min: 0n, max: MAX_UINT64 });
const arbGas = arbU64.map((g) => g as Gas);
const arbQsr = fc.oneof(fc.bigInt({ min: 0n, max: MAX_UINT256 }), fc.bigInt({ min: 0n, max: 10n ** 12n })).map((q) => q as Qsr);
const arbBytes = fc.uint8Array({ maxLength: 200 }).map((b) => bytesToHex(b));
const arbReceipt: fc.Arbitrary<SettlementReceipt> = fc.record({
  sessionId: arbBytes32,
  seq: arbU64,
  callGasLimit: arbGas,
  callGas: arbGas,
  cumulativeGas: arbGas,
  inputHash: arbBytes32,
  preStateHash: arbBytes32,
  postStateHash: arbBytes32,
  outputHash: arbBytes32,
  status: fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<CallStatus>,
  signature: fc.uint8Array({ minLength: 65, maxLength: 65 }).map((b) => bytesToHex(b)),
  invocationSignature: fc.uint8Array({ minLength: 65, maxLength: 65 }).map((b) => bytesToHex(b)),
});

const arbMethod: fc.Arbitrary<Method> = fc.oneof(
  fc.record({ name: fc.constant('Transfer' as const), to: arbAddress, amount: arbQsr }),
  fc.record({ name: fc.constant('RegisterZApp' as const), moduleHash: arbBytes32, maxPricePerMgas: arbQsr, maxGasPerSession: arbGas, openToAll: fc.boolean(), openGasPerDay: arbGas }),
  fc.record({ name: fc.constant('SetPolicy' as const), zAppId: arbBytes32, maxPricePerMgas: arbQsr, maxGasPerSession: arbGas, openToAll: fc.boolean(), openGasPerDay: arbGas }),
  fc.record({ name: fc.constant('SetAutoTopUp' as const), zAppId: arbBytes32, minAvailable: arbQsr, refill: arbQsr }),
  fc.record({ name: fc.constant('TopUp' as const), zAppId: arbBytes32, amount: arbQsr }),
  fc.record({ name: fc.constant('WithdrawEscrow' as const), zAppId: arbBytes32, amount: arbQsr }),
  fc.record({ name: fc.constant('RegisterProvider' as const), receiptSigner: arbAddress, pricePerMgas: arbQsr, upfrontGas: arbGas, stake: arbQsr }),
  fc.record({ name: fc.constant('UpdateOffer' as const), receiptSigner: arbAddress, pricePerMgas: arbQsr, upfrontGas: arbGas }),
  fc.record({ name: fc.constant('AddStake' as const), amount: arbQsr }),
  fc.record({ name: fc.constant('Unbond' as const), amount: arbQsr }),
  fc.record({ name: fc.constant('WithdrawUnbonded' as const) }),
  fc.record({ name: fc.constant('Retire' as const) }),
  fc.record({
    name: fc.constant('OpenSession' as const), zAppId: arbBytes32, provider: arbAddress, user: arbAddress, gasLimit: arbGas, durationSeconds: arbU64,
    maxPricePerMgas: arbQsr, maxUpfrontGas: arbGas,
  }),
  fc.record({ name: fc.constant('ExtendSession' as const), sessionId: arbBytes32, extraGas: arbGas }),
  fc.record({ name: fc.constant('Abort' as const), sessionId: arbBytes32 }),
  fc.record({ name: fc.constant('CloseSession' as const), sessionId: arbBytes32 }),
  fc.record({ name: fc.constant('FinalizeSession' as const), sessionId: arbBytes32 }),
  fc.record({ name: fc.constant('Settle' as const), receipts: fc.array(arbReceipt, { maxLength: 5 }) }),
  fc.record({ name: fc.constant('Challenge' as const), receipt: arbReceipt, input: arbBytes, preState: arbBytes }),
  fc.record({ name: fc.constant('ClaimEarnings' as const) }),
);

const receipt: SettlementReceipt = {
  sessionId: `0x${'cd'.repeat(32)}`,
  seq: 1n,
  callGasLimit: 1000000n as Gas,
  callGas: 12345n as Gas,
  cumulativeGas: 12345n as Gas,
  inputHash: `0x${'01'.repeat(32)}`,
  preStateHash: `0x${'02'.repeat(32)}`,
  postStateHash: `0x${'03'.repeat(32)}`,
  outputHash: `0x${'04'.repeat(32)}`,
  status: 1,
  signature: `0x${'aa'.repeat(64)}1b`,
  invocationSignature: `0x${'bb'.repeat(64)}1c`,
};

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof ZgasError ? error.code : `untyped: ${String(error)}`;
  }
};

/** Replaces the 32-byte word at `index` (counted after the selector) with `value`. */
function patchWord(data: Hex, index: number, value: bigint): Hex {
  const bytes = hexToBytes(data);
  const word = hexToBytes(`0x${value.toString(16).padStart(64, '0')}`);
  bytes.set(word, 4 + index * 32);
  return bytesToHex(bytes);
}

describe('ABI round trip', () => {
  it('every method decodes to what was encoded (property)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(arbMethod, (method) => {
        seen.add(method.name);
        const data = encodeMethod(method);
        expect(data.slice(0, 10)).toBe(selectors[method.name]);
        expect(decodeMethod(data)).toEqual(method);
        expect(decodeMethod(hexToBytes(data))).toEqual(method);
      }),
      { numRuns: 400 },
    );
    expect([...seen].sort()).toEqual([...METHOD_NAMES].sort());
  });

  it('encodings are byte-equal to ethers AbiCoder, and AbiCoder decodes them to the same values (property)', () => {
    fc.assert(
      fc.property(arbMethod, (method) => {
        const record = method as unknown as Record<string, unknown>;
        const params = gasContractAbi.find((f) => f.name === method.name)!.inputs;
        const values = params.map((p) => {
          const v = record[p.name];
          if (p.encoding === 'SettlementReceipt') return encodeReceipt(v as SettlementReceipt);
          if (p.encoding === 'SettlementReceipt[]') return (v as SettlementReceipt[]).map(encodeReceipt);
          return v;
        });
        const types = params.map((p) => p.type);
        const args = coder.encode(types, values);
        const data = encodeMethod(method);
        expect(data).toBe(`${selectors[method.name]}${args.slice(2)}`);
        const decoded = coder.decode(types, `0x${data.slice(10)}`).toArray(true) as unknown[];
        expect(decoded.map((v) => (typeof v === 'string' ? v.toLowerCase() : v))).toEqual(values.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)));
      }),
      { numRuns: 300 },
    );
  });

  it('arguments are the Solidity encoding of the declared parameters', () => {
    const to = getAddress(`0x${'12'.repeat(20)}`) as Hex;
    const data = encodeMethod({ name: 'Transfer', to, amount: 5n as Qsr });
    expect(data).toBe(`${selectors.Transfer}${coder.encode(['address', 'uint256'], [to, 5n]).slice(2)}`);
    expect(METHOD_DECLARATIONS.Settle).toBe('Settle(bytes[] receipts)');
  });

  it('settlement receipts encode exactly as ethers AbiCoder does, in 640 bytes (property)', () => {
    fc.assert(
      fc.property(arbReceipt, (r) => {
        const values = [
          r.sessionId, r.seq, r.callGasLimit, r.callGas, r.cumulativeGas, r.inputHash, r.preStateHash, r.postStateHash, r.outputHash, r.status,
          r.signature, r.invocationSignature,
        ];
        const expected = coder.encode(RECEIPT_ABI_TYPES, values) as Hex;
        expect(encodeReceipt(r)).toBe(expected);
        expect(hexToBytes(expected).length).toBe(RECEIPT_ENCODED_BYTES);
        expect(decodeReceipt(expected)).toEqual(r);
      }),
      { numRuns: 200 },
    );
  });

  it('Settle batches encode exactly as ethers AbiCoder encodes bytes[] (property)', () => {
    fc.assert(
      fc.property(fc.array(arbReceipt, { maxLength: 6 }), (receipts) => {
        const expected = `${selectors.Settle}${coder.encode(['bytes[]'], [receipts.map(encodeReceipt)]).slice(2)}`;
        expect(encodeMethod({ name: 'Settle', receipts })).toBe(expected);
        expect(decodeMethod(expected as Hex)).toEqual({ name: 'Settle', receipts });
      }),
      { numRuns: 100 },
    );
  });

  it('addresses come back EIP-55 and hex lowercase whatever case went in', () => {
    const lower = `0x${'ab'.repeat(20)}` as Hex;
    const m = decodeMethod(encodeMethod({ name: 'UpdateOffer', receiptSigner: lower, pricePerMgas: 1n as Qsr, upfrontGas: 2n as Gas }));
    expect(m).toEqual({ name: 'UpdateOffer', receiptSigner: getAddress(lower), pricePerMgas: 1n, upfrontGas: 2n });
    const upper = `0x${'AB'.repeat(32)}` as Hex;
    expect(decodeMethod(encodeMethod({ name: 'CloseSession', sessionId: upper }))).toEqual({ name: 'CloseSession', sessionId: upper.toLowerCase() });
  });
});

describe('ABI rejections', () => {
  const transfer = encodeMethod({ name: 'Transfer', to: getAddress(`0x${'12'.repeat(20)}`) as Hex, amount: 5n as Qsr });
  const challengeData = encodeMethod({ name: 'Challenge', receipt, input: '0x01', preState: '0x0203' });

  it('unknown selectors, including keccak selectors of the same signatures', () => {
    expect(codeOf(() => decodeMethod('0xdeadbeef'))).toBe('UnknownMethod');
    // keccak256("Transfer(address,uint256)") starts with 0x69ca02dd; zgas selectors use SHA3-256.
    expect(codeOf(() => decodeMethod(`0x69ca02dd${transfer.slice(10)}`))).toBe('UnknownMethod');
  });

  it('data shorter than a selector, or not hex', () => {
    for (const bad of ['0x', '0x445528', '0x445528c', 'hello', '0x445528cg']) expect(codeOf(() => decodeMethod(bad as Hex)), bad).toBe('InvalidCallData');
    expect(codeOf(() => decodeMethod(42 as unknown as Hex))).toBe('InvalidCallData');
  });

  it('truncated data, at every length (property over methods)', () => {
    fc.assert(
      fc.property(arbMethod, fc.nat(), (method, cut) => {
        const bytes = hexToBytes(encodeMethod(method));
        fc.pre(bytes.length > 4);
        const keep = 4 + (cut % (bytes.length - 4));
        expect(['InvalidCallData', 'InvalidReceiptEncoding']).toContain(codeOf(() => decodeMethod(bytes.subarray(0, keep))));
      }),
      { numRuns: 300 },
    );
  });

  it('trailing bytes after valid arguments (property over methods)', () => {
    fc.assert(
      fc.property(arbMethod, fc.uint8Array({ minLength: 1, maxLength: 64 }), (method, extra) => {
        const bytes = concatBytes(hexToBytes(encodeMethod(method)), extra);
        expect(codeOf(() => decodeMethod(bytes))).toBe('InvalidCallData');
      }),
      { numRuns: 200 },
    );
  });

  it('non-canonical encodings: dirty high bits, bools other than 0/1, moved offsets', () => {
    // address with a non-zero high byte
    expect(codeOf(() => decodeMethod(patchWord(transfer, 0, (1n << 200n) | 0x12n)))).toBe('InvalidCallData');
    const ext = encodeMethod({ name: 'ExtendSession', sessionId: receipt.sessionId, extraGas: 7n as Gas });
    // uint64 with bits above 64
    expect(codeOf(() => decodeMethod(patchWord(ext, 1, (1n << 64n) | 7n)))).toBe('InvalidCallData');
    const reg = encodeMethod({ name: 'RegisterZApp', moduleHash: receipt.sessionId, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 2n as Gas, openToAll: true, openGasPerDay: 3n as Gas });
    expect(codeOf(() => decodeMethod(patchWord(reg, 3, 2n)))).toBe('InvalidCallData');
    expect(decodeMethod(patchWord(reg, 3, 0n))).toMatchObject({ openToAll: false });
    // Challenge's first bytes offset moved past a gap of one word: decodes the same value from a different layout.
    const bytes = hexToBytes(challengeData);
    const moved = concatBytes(bytes.subarray(0, 4), hexToBytes(`0x${(0x80n).toString(16).padStart(64, '0')}`), bytes.subarray(4 + 32, 4 + 96), new Uint8Array(32), bytes.subarray(4 + 96));
    expect(codeOf(() => decodeMethod(moved))).toBe('InvalidCallData');
  });

  it('non-canonical Settle layouts: head offset, element offsets, swapped elements', () => {
    const two = encodeMethod({ name: 'Settle', receipts: [receipt, { ...receipt, seq: 2n }] });
    expect(codeOf(() => decodeMethod(patchWord(two, 0, 0x40n)))).toBe('InvalidCallData');
    // Both offsets pointing at the first element: AbiCoder would decode it twice.
    expect(codeOf(() => decodeMethod(patchWord(two, 3, 0x40n)))).toBe('InvalidCallData');
    // Offsets swapped: a valid ABI encoding of the reversed batch, but not the canonical one.
    const swapped = patchWord(patchWord(two, 2, BigInt(0x40 + 32 + RECEIPT_ENCODED_BYTES)), 3, 0x40n);
    expect(codeOf(() => decodeMethod(swapped))).toBe('InvalidCallData');
    expect(codeOf(() => decodeMethod(patchWord(two, 1, 3n)))).toBe('InvalidCallData');
    expect(codeOf(() => decodeMethod(patchWord(two, 1, 1n)))).toBe('InvalidCallData');
    expect(decodeMethod(`${selectors.Settle}${coder.encode(['bytes[]'], [[]]).slice(2)}` as Hex)).toEqual({ name: 'Settle', receipts: [] });
  });

  it('non-canonical bytes tails: dirty padding, shared tails, lengths past the end', () => {
    const challenge = encodeMethod({ name: 'Challenge', receipt, input: '0x01', preState: '0x0203' });
    const bytes = hexToBytes(challenge);
    // Layout after the selector: 3 offsets, receipt (32 + 640), input (32 + 32), preState (32 + 32).
    const inputData = 4 + 96 + 32 + RECEIPT_ENCODED_BYTES + 32;
    const dirty = bytes.slice();
    dirty[inputData + 1] = 1;
    expect(codeOf(() => decodeMethod(dirty))).toBe('InvalidCallData');
    // preState pointing at input's tail: a valid ABI encoding that AbiCoder accepts, but not canonical.
    expect(codeOf(() => decodeMethod(patchWord(challenge, 2, BigInt(96 + 32 + RECEIPT_ENCODED_BYTES))))).toBe('InvalidCallData');
    expect(codeOf(() => decodeMethod(patchWord(challenge, 3 + 1 + RECEIPT_ENCODED_BYTES / 32 + 1 + 1, 1n << 40n)))).toBe('InvalidCallData');
    expect(decodeMethod(challenge)).toMatchObject({ input: '0x01', preState: '0x0203' });
  });

  it('large byte arguments round-trip', () => {
    const input = bytesToHex(new Uint8Array(900 * 1024).fill(7));
    const data = encodeMethod({ name: 'Challenge', receipt, input, preState: input });
    expect(decodeMethod(data)).toMatchObject({ input, preState: input });
  });

  it('receipts inside methods are held to the receipt encoding', () => {
    // A bytes value that is not a 640-byte settlement receipt.
    const badChallenge = `${selectors.Challenge}${coder.encode(['bytes', 'bytes', 'bytes'], ['0x1234', '0x', '0x']).slice(2)}` as Hex;
    expect(codeOf(() => decodeMethod(badChallenge))).toBe('InvalidReceiptEncoding');
    // A provider-signed receipt alone (v1 layout, no invocation signature) is not a settlement receipt.
    const providerOnly = coder.encode(RECEIPT_ABI_TYPES.slice(0, 11), [
      receipt.sessionId, receipt.seq, receipt.callGasLimit, receipt.callGas, receipt.cumulativeGas, receipt.inputHash, receipt.preStateHash,
      receipt.postStateHash, receipt.outputHash, receipt.status, receipt.signature,
    ]);
    const v1Settle = `${selectors.Settle}${coder.encode(['bytes[]'], [[providerOnly]]).slice(2)}` as Hex;
    expect(codeOf(() => decodeMethod(v1Settle))).toBe('InvalidReceiptEncoding');
    const badSettle = `${selectors.Settle}${coder.encode(['bytes[]'], [[encodeReceipt(receipt), '0x']]).slice(2)}` as Hex;
    expect(codeOf(() => decodeMethod(badSettle))).toBe('InvalidReceiptEncoding');
    expect(codeOf(() => encodeMethod({ name: 'Settle', receipts: [{ ...receipt, signature: '0x1234' }] }))).toBe('InvalidReceiptEncoding');
    expect(codeOf(() => encodeMethod({ name: 'Settle', receipts: [{ ...receipt, invocationSignature: '0x1234' }] }))).toBe('InvalidReceiptEncoding');
  });

  it('oversize batches, both when encoding and when decoding', () => {
    const many = Array.from({ length: MAX_RECEIPTS_PER_BATCH + 1 }, () => receipt);
    expect(codeOf(() => encodeMethod({ name: 'Settle', receipts: many }))).toBe('BatchTooLarge');
    const full = encodeMethod({ name: 'Settle', receipts: many.slice(1) });
    expect((decodeMethod(full) as { receipts: unknown[] }).receipts).toHaveLength(MAX_RECEIPTS_PER_BATCH);
    // The same batch announcing one receipt more than allowed.
    expect(codeOf(() => decodeMethod(patchWord(full, 1, BigInt(MAX_RECEIPTS_PER_BATCH + 1))))).toBe('BatchTooLarge');
    // A header announcing a huge array with no elements behind it.
    const header = `${selectors.Settle}${(0x20n).toString(16).padStart(64, '0')}${(10n ** 9n).toString(16).padStart(64, '0')}` as Hex;
    expect(codeOf(() => decodeMethod(header))).toBe('BatchTooLarge');
  });

  it('call data above MAX_CALL_DATA_BYTES', () => {
    const big = new Uint8Array(MAX_CALL_DATA_BYTES + 1);
    big.set(hexToBytes(selectors.Challenge));
    expect(codeOf(() => decodeMethod(big))).toBe('LimitExceeded');
    expect(codeOf(() => decodeMethod(bytesToHex(big)))).toBe('LimitExceeded');
    const input = bytesToHex(new Uint8Array(MAX_CALL_DATA_BYTES));
    expect(codeOf(() => encodeMethod({ name: 'Challenge', receipt, input, preState: '0x' }))).toBe('LimitExceeded');
  });

  it('bad argument values when encoding', () => {
    expect(codeOf(() => encodeMethod({ name: 'Transfer', to: '0x1234', amount: 1n as Qsr }))).toBe('InvalidCallData');
    expect(codeOf(() => encodeMethod({ name: 'ExtendSession', sessionId: receipt.sessionId, extraGas: (MAX_UINT64 + 1n) as Gas }))).toBe('InvalidCallData');
    expect(codeOf(() => encodeMethod({ name: 'Nope' } as unknown as Method))).toBe('UnknownMethod');
    expect(codeOf(() => encodeMethod({ name: 'Challenge', receipt: { ...receipt, invocationSignature: undefined }, input: '0x', preState: '0x' } as unknown as Method))).toBe('InvalidReceiptEncoding');
    expect(codeOf(() => encodeMethod({ name: 'Settle', receipts: 'x' } as unknown as Method))).toBe('InvalidCallData');
    expect(codeOf(() => encodeMethod({ name: 'RegisterZApp', moduleHash: receipt.sessionId, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 2n as Gas, openToAll: 1, openGasPerDay: 3n } as unknown as Method))).toBe('InvalidCallData');
    expect(codeOf(() => encodeMethod({ name: 'TopUp', zAppId: '0x12', amount: 1n } as unknown as Method))).toBe('InvalidCallData');
    expect(codeOf(() => encodeMethod({ name: 'TopUp', zAppId: receipt.sessionId, amount: 1 } as unknown as Method))).toBe('InvalidCallData');
    expect(codeOf(() => encodeMethod({ name: 'Transfer', to: `0x${'ab'.repeat(20)}`, amount: MAX_UINT256 + 1n } as unknown as Method))).toBe('InvalidCallData');
  });

  it('one encoding per value: whenever a mutated encoding still decodes, it re-encodes to itself (property)', () => {
    fc.assert(
      fc.property(arbMethod, fc.nat(), fc.integer({ min: 1, max: 255 }), (method, at, xor) => {
        const bytes = hexToBytes(encodeMethod(method));
        fc.pre(bytes.length > 4);
        const mutated = bytes.slice();
        const i = 4 + (at % (bytes.length - 4));
        mutated[i] = mutated[i]! ^ xor;
        let decoded: Method;
        try {
          decoded = decodeMethod(mutated);
        } catch (error) {
          expect(error).toBeInstanceOf(ZgasError);
          return;
        }
        expect(encodeMethod(decoded)).toBe(bytesToHex(mutated));
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes after any selector fail only with typed errors (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHOD_NAMES), fc.uint8Array({ maxLength: 600 }), (name, tail) => {
        const code = codeOf(() => decodeMethod(concatBytes(hexToBytes(selectors[name]), tail)));
        expect(code).not.toMatch(/^untyped/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('receipt decoding is strict', () => {
  const good = hexToBytes(encodeReceipt(receipt));
  const mutate = (at: number, value: number): Uint8Array => {
    const copy = good.slice();
    copy[at] = value;
    return copy;
  };

  it('accepts the canonical form from bytes and hex', () => {
    expect(decodeReceipt(good)).toEqual(receipt);
    expect(decodeReceipt(bytesToHex(good))).toEqual(receipt);
  });

  it('rejects every non-canonical variant', () => {
    expect(codeOf(() => decodeReceipt(good.subarray(0, RECEIPT_ENCODED_BYTES - 1)))).toBe('InvalidReceiptEncoding');
    expect(codeOf(() => decodeReceipt(concatBytes(good, new Uint8Array(32))))).toBe('InvalidReceiptEncoding');
    expect(codeOf(() => decodeReceipt(mutate(32, 1)))).toBe('InvalidReceiptEncoding'); // seq above uint64
    expect(codeOf(() => decodeReceipt(mutate(2 * 32, 1)))).toBe('InvalidReceiptEncoding'); // callGasLimit above uint64
    expect(codeOf(() => decodeReceipt(mutate(9 * 32 + 30, 1)))).toBe('InvalidReceiptEncoding'); // status above uint8
    expect(codeOf(() => decodeReceipt(mutate(10 * 32 + 31, 0x60)))).toBe('InvalidReceiptEncoding'); // signature offset
    expect(codeOf(() => decodeReceipt(mutate(11 * 32 + 31, 0x60)))).toBe('InvalidReceiptEncoding'); // invocation signature offset
    expect(codeOf(() => decodeReceipt(mutate(12 * 32 + 31, 64)))).toBe('InvalidReceiptEncoding'); // signature length
    expect(codeOf(() => decodeReceipt(mutate(16 * 32 + 31, 66)))).toBe('InvalidReceiptEncoding'); // invocation signature length
    expect(codeOf(() => decodeReceipt(mutate(16 * 32 - 1, 1)))).toBe('InvalidReceiptEncoding'); // signature padding
    expect(codeOf(() => decodeReceipt(mutate(RECEIPT_ENCODED_BYTES - 1, 1)))).toBe('InvalidReceiptEncoding'); // invocation signature padding
    expect(codeOf(() => decodeReceipt(`0x${'zz'.repeat(RECEIPT_ENCODED_BYTES)}` as Hex))).toBe('InvalidReceiptEncoding');
  });

  it('rejects a status outside 1..4 as InvalidReceipt', () => {
    expect(codeOf(() => decodeReceipt(mutate(9 * 32 + 31, 0)))).toBe('InvalidReceipt');
    expect(codeOf(() => decodeReceipt(mutate(9 * 32 + 31, 5)))).toBe('InvalidReceipt');
  });
});

describe('published ABI', () => {
  it('the JSON file equals gasContractAbi (regenerate it from gasContractAbi when methods change)', () => {
    const file = JSON.parse(readFileSync(new URL('./gas-contract.abi.json', import.meta.url), 'utf8')) as unknown;
    expect(file).toEqual(JSON.parse(JSON.stringify(gasContractAbi)));
  });

  it('lists every method once with its selector and parameter names', () => {
    expect(gasContractAbi.map((f) => f.name)).toEqual(METHOD_NAMES);
    for (const f of gasContractAbi) {
      expect(f.selector).toBe(selectors[f.name]);
      expect(`${f.name}(${f.inputs.map((i) => `${i.type} ${i.name}`).join(', ')})`).toBe(METHOD_DECLARATIONS[f.name]);
    }
  });
});
