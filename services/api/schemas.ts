import { z } from 'zod';
import { ZgasError } from '../../contracts/errors.ts';
import { parseAddress } from '../../contracts/hex.ts';
import type { Address, CallStatus, Hash, Hex, SettlementReceipt, SignedCall } from '../../contracts/types.ts';
import { MAX_CALL_DATA_BYTES } from '../../contracts/abi/index.ts';
import { MAX_UINT64 } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';

/** Receipts in one POST /v1/receipts: at most a Settle batch's 1,000 (docs/protocol.md §Fixed surfaces). */
export const MAX_RECEIPTS_PER_REQUEST = 1_000;
/** Largest call data accepted in a signed call: the contract's own limit. */
export { MAX_CALL_DATA_BYTES };

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
// A plain character class: a repeated group would recurse per byte and overflow the stack on the
// megabytes of a Challenge. Evenness is checked apart.
const HEX = /^0x[0-9a-fA-F]*$/;

export const uint64Text = z
  .string()
  .regex(DECIMAL, 'a decimal string of digits only: no sign, exponent, hex, spaces or leading zeros')
  .refine((t) => !DECIMAL.test(t) || BigInt(t) <= MAX_UINT64, 'at most 2^64-1');
export const hashText = z.string().regex(HASH, 'a 32-byte hash: 0x followed by 64 hex digits');
export const addressText = z
  .string()
  .regex(ADDRESS, 'an address: 0x followed by 40 hex digits')
  .refine((t) => {
    try {
      parseAddress(t);
      return true;
    } catch {
      return false;
    }
  }, 'mixed-case addresses must carry a valid EIP-55 checksum');
export const signatureText = z.string().regex(SIGNATURE, 'a 65-byte signature r‖s‖v: 0x followed by 130 hex digits');
export const bytesText = (maxBytes: number) =>
  z
    .string()
    .regex(HEX, 'bytes: 0x followed by an even number of hex digits')
    .refine((t) => t.length % 2 === 0, 'bytes: 0x followed by an even number of hex digits')
    .refine((t) => t.length <= 2 + 2 * maxBytes, `at most ${maxBytes} bytes`);

/** A settlement receipt (docs/protocol.md §JSON forms): the ten GasReceipt fields, the provider's signature and the user's invocation signature. */
export const receiptJson = z.strictObject({
  sessionId: hashText,
  seq: uint64Text,
  callGasLimit: uint64Text,
  callGas: uint64Text,
  cumulativeGas: uint64Text,
  inputHash: hashText,
  preStateHash: hashText,
  postStateHash: hashText,
  outputHash: hashText,
  status: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  signature: signatureText,
  invocationSignature: signatureText,
});
export type ReceiptJson = z.infer<typeof receiptJson>;

export const receiptsBody = z.strictObject({
  receipts: z.array(receiptJson).min(1).max(MAX_RECEIPTS_PER_REQUEST),
});

export const callJson = z.strictObject({
  from: addressText,
  nonce: uint64Text,
  data: bytesText(MAX_CALL_DATA_BYTES),
  signature: signatureText,
});
export type CallJson = z.infer<typeof callJson>;

export const hashParams = z.strictObject({ hash: hashText });
export const digestParams = z.strictObject({ digest: hashText });
export const idParams = z.strictObject({ id: hashText });
export const addressParams = z.strictObject({ address: addressText });
export const heightParams = z.strictObject({ height: uint64Text });
export const eventsQuery = z.strictObject({ provider: addressText.optional() });

const lower = (t: string): Hex => t.toLowerCase() as Hex;

export function receiptFromBody(r: ReceiptJson): SettlementReceipt {
  return {
    sessionId: lower(r.sessionId) as Hash,
    seq: BigInt(r.seq),
    callGasLimit: BigInt(r.callGasLimit) as Gas,
    callGas: BigInt(r.callGas) as Gas,
    cumulativeGas: BigInt(r.cumulativeGas) as Gas,
    inputHash: lower(r.inputHash) as Hash,
    preStateHash: lower(r.preStateHash) as Hash,
    postStateHash: lower(r.postStateHash) as Hash,
    outputHash: lower(r.outputHash) as Hash,
    status: r.status as CallStatus,
    signature: lower(r.signature),
    invocationSignature: lower(r.invocationSignature),
  };
}

export function callFromBody(c: CallJson): SignedCall {
  return { from: parseAddress(c.from) as Address, nonce: BigInt(c.nonce), data: lower(c.data), signature: lower(c.signature) };
}

/**
 * Validates `value` against `schema`; on failure throws InvalidRequest naming the first offending
 * field path (e.g. `receipts.3.seq`; unknown fields name the field itself).
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, prefix: readonly (string | number)[] = []): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path: (string | number | symbol)[] = [...prefix, ...(issue?.path ?? [])];
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  throw new ZgasError('InvalidRequest', { path: path.map(String).join('.'), reason: issue?.message ?? 'invalid' });
}

/** The JSON Schema of a request schema, for the OpenAPI document only (validation is zod's). */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
