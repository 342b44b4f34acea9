import { keccak256 } from './keccak.ts';
import { ZgasError } from '../errors.ts';
import { bytesToHex, hexToBytes, parseAddress, utf8Bytes, writeHash } from '../hex.ts';
import type { Address, Call, GasReceipt, Hash, Invocation } from '../types.ts';
import { MAX_UINT256, MAX_UINT64 } from '../units.ts';

/** The EIP-712 domain of every zgas signature (docs/protocol.md §Signatures). */
export interface Domain {
  name: 'zgas';
  version: '2';
  chainId: bigint;
  verifyingContract: Address;
}

export function makeDomain(chainId: bigint, verifyingContract: string): Domain {
  if (typeof chainId !== 'bigint' || chainId < 0n || chainId > MAX_UINT256) throw new ZgasError('InvalidAmount', { chainId: String(chainId) });
  return { name: 'zgas', version: '2', chainId, verifyingContract: parseAddress(verifyingContract) };
}

export type PrimaryType = 'Call' | 'Invocation' | 'GasReceipt';
export interface TypedField {
  name: string;
  type: string;
}

const frozen = (fields: TypedField[]): TypedField[] => Object.freeze(fields.map((f) => Object.freeze(f))) as TypedField[];

/** The typed-data types, in the shape ethers' TypedDataEncoder and wallets take (frozen). */
export const TYPES: Readonly<Record<PrimaryType, TypedField[]>> = Object.freeze({
  Call: frozen([
    { name: 'from', type: 'address' },
    { name: 'nonce', type: 'uint64' },
    { name: 'data', type: 'bytes' },
  ]),
  Invocation: frozen([
    { name: 'sessionId', type: 'bytes32' },
    { name: 'seq', type: 'uint64' },
    { name: 'callGasLimit', type: 'uint64' },
    { name: 'inputHash', type: 'bytes32' },
    { name: 'preStateHash', type: 'bytes32' },
    { name: 'ackedGas', type: 'uint64' },
  ]),
  GasReceipt: frozen([
    { name: 'sessionId', type: 'bytes32' },
    { name: 'seq', type: 'uint64' },
    { name: 'callGasLimit', type: 'uint64' },
    { name: 'callGas', type: 'uint64' },
    { name: 'cumulativeGas', type: 'uint64' },
    { name: 'inputHash', type: 'bytes32' },
    { name: 'preStateHash', type: 'bytes32' },
    { name: 'postStateHash', type: 'bytes32' },
    { name: 'outputHash', type: 'bytes32' },
    { name: 'status', type: 'uint8' },
  ]),
} satisfies Record<PrimaryType, TypedField[]>);

/** `Name(type1 name1,type2 name2,...)`: the EIP-712 encodeType of a type without references. */
export function encodeType(name: string, fields: ReadonlyArray<{ name: string; type: string }>): string {
  return `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`;
}

const typeHash = (text: string): Uint8Array => keccak256(utf8Bytes(text));
const DOMAIN_TYPE_HASH = typeHash('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)');
const CALL_TYPE_HASH = typeHash(encodeType('Call', TYPES.Call));
const INVOCATION_TYPE_HASH = typeHash(encodeType('Invocation', TYPES.Invocation));
const RECEIPT_TYPE_HASH = typeHash(encodeType('GasReceipt', TYPES.GasReceipt));
const NAME_HASH = keccak256(utf8Bytes('zgas'));
/** The protocol version in the domain: no signature of another version is valid here. */
export const DOMAIN_VERSION = '2';
const VERSION_HASH = keccak256(utf8Bytes(DOMAIN_VERSION));

function writeUint(out: Uint8Array, offset: number, value: bigint, max: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > max) {
    throw new ZgasError(max === MAX_UINT64 ? 'InvalidUint64' : 'InvalidAmount', { field, value: String(value) });
  }
  let v = value;
  for (let i = offset + 31; v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function writeUint64(out: Uint8Array, offset: number, value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT64) throw new ZgasError('InvalidUint64', { field, value: String(value) });
  const hi = Number(value >> 32n);
  const lo = Number(value & 0xffff_ffffn);
  out[offset + 24] = hi >>> 24;
  out[offset + 25] = (hi >>> 16) & 0xff;
  out[offset + 26] = (hi >>> 8) & 0xff;
  out[offset + 27] = hi & 0xff;
  out[offset + 28] = lo >>> 24;
  out[offset + 29] = (lo >>> 16) & 0xff;
  out[offset + 30] = (lo >>> 8) & 0xff;
  out[offset + 31] = lo & 0xff;
}

function writeAddress(out: Uint8Array, offset: number, address: string): void {
  if (typeof address !== 'string' || address.length !== 42) throw new ZgasError('InvalidAddress', { address: String(address) });
  out.set(hexToBytes(address, 20, 'InvalidAddress'), offset + 12);
}

// Domain separators are few (one per chain); keep them by chainId and contract.
const separators = new Map<string, Uint8Array>();
const MAX_CACHED_SEPARATORS = 64;

function separatorBytes(domain: Domain): Uint8Array {
  if (domain.name !== 'zgas' || domain.version !== DOMAIN_VERSION) throw new ZgasError('InvalidField', { path: 'domain', reason: `name must be "zgas" and version "${DOMAIN_VERSION}"` });
  const key = `${domain.chainId}:${String(domain.verifyingContract).toLowerCase()}`;
  const cached = separators.get(key);
  if (cached !== undefined) return cached;
  const buf = new Uint8Array(5 * 32);
  buf.set(DOMAIN_TYPE_HASH, 0);
  buf.set(NAME_HASH, 32);
  buf.set(VERSION_HASH, 64);
  writeUint(buf, 96, domain.chainId, MAX_UINT256, 'chainId');
  writeAddress(buf, 128, domain.verifyingContract);
  const separator = keccak256(buf);
  if (separators.size >= MAX_CACHED_SEPARATORS) separators.clear();
  separators.set(key, separator);
  return separator;
}

export function domainSeparator(domain: Domain): Hash {
  return bytesToHex(separatorBytes(domain));
}

function digestBytes(domain: Domain, structHash: Uint8Array): Uint8Array {
  const buf = new Uint8Array(66);
  buf[0] = 0x19;
  buf[1] = 0x01;
  buf.set(separatorBytes(domain), 2);
  buf.set(structHash, 34);
  return keccak256(buf);
}

// ── Call ────────────────────────────────────────────────────────────────────────────────
export function callStructHashBytes(call: Call): Uint8Array {
  const buf = new Uint8Array(4 * 32);
  buf.set(CALL_TYPE_HASH, 0);
  writeAddress(buf, 32, call.from);
  writeUint64(buf, 64, call.nonce, 'nonce');
  buf.set(keccak256(hexToBytes(call.data)), 96);
  return keccak256(buf);
}

export const callStructHash = (call: Call): Hash => bytesToHex(callStructHashBytes(call));
export const callDigestBytes = (domain: Domain, call: Call): Uint8Array => digestBytes(domain, callStructHashBytes(call));
export const callDigest = (domain: Domain, call: Call): Hash => bytesToHex(callDigestBytes(domain, call));

// ── Invocation ──────────────────────────────────────────────────────────────────────────
export function invocationStructHashBytes(inv: Invocation): Uint8Array {
  const buf = new Uint8Array(7 * 32);
  buf.set(INVOCATION_TYPE_HASH, 0);
  writeHash(inv.sessionId, buf, 32);
  writeUint64(buf, 64, inv.seq, 'seq');
  writeUint64(buf, 96, inv.callGasLimit, 'callGasLimit');
  writeHash(inv.inputHash, buf, 128);
  writeHash(inv.preStateHash, buf, 160);
  writeUint64(buf, 192, inv.ackedGas, 'ackedGas');
  return keccak256(buf);
}

export const invocationStructHash = (inv: Invocation): Hash => bytesToHex(invocationStructHashBytes(inv));
export const invocationDigestBytes = (domain: Domain, inv: Invocation): Uint8Array => digestBytes(domain, invocationStructHashBytes(inv));
export const invocationDigest = (domain: Domain, inv: Invocation): Hash => bytesToHex(invocationDigestBytes(domain, inv));

// ── GasReceipt ──────────────────────────────────────────────────────────────────────────
export function receiptStructHashBytes(r: GasReceipt): Uint8Array {
  const buf = new Uint8Array(11 * 32);
  buf.set(RECEIPT_TYPE_HASH, 0);
  writeHash(r.sessionId, buf, 32);
  writeUint64(buf, 64, r.seq, 'seq');
  writeUint64(buf, 96, r.callGasLimit, 'callGasLimit');
  writeUint64(buf, 128, r.callGas, 'callGas');
  writeUint64(buf, 160, r.cumulativeGas, 'cumulativeGas');
  writeHash(r.inputHash, buf, 192);
  writeHash(r.preStateHash, buf, 224);
  writeHash(r.postStateHash, buf, 256);
  writeHash(r.outputHash, buf, 288);
  const status: number = r.status;
  if (!Number.isInteger(status) || status < 0 || status > 255) throw new ZgasError('InvalidReceipt', { field: 'status', value: String(status) });
  buf[351] = status;
  return keccak256(buf);
}

export const receiptStructHash = (r: GasReceipt): Hash => bytesToHex(receiptStructHashBytes(r));
export const receiptDigestBytes = (domain: Domain, r: GasReceipt): Uint8Array => digestBytes(domain, receiptStructHashBytes(r));
export const receiptDigest = (domain: Domain, r: GasReceipt): Hash => bytesToHex(receiptDigestBytes(domain, r));
