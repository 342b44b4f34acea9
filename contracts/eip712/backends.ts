import { createRequire } from 'node:module';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak256 } from './keccak.ts';
import * as noble from '@noble/secp256k1';
import { SigningKey, recoverAddress as ethersRecoverAddress } from 'ethers';
import { ZgasError } from '../errors.ts';
import { addressFromBytes, bytesToHex, hexToBytes } from '../hex.ts';
import type { Address, Hex } from '../types.ts';

/**
 * One way to sign and recover secp256k1 signatures over 32-byte digests. Signatures are 65 bytes
 * r ‖ s ‖ v with v = 27/28. `sign` always produces low s (deterministic RFC 6979 nonces, so every
 * backend produces the same bytes); `recover` rejects high s (HighS) and malformed signatures
 * (InvalidSignature) before doing any curve work.
 */
export interface SignatureBackend {
  readonly name: string;
  sign(digest: Uint8Array, privateKey: Uint8Array): Hex;
  recover(digest: Uint8Array, signature: Hex | Uint8Array): Address;
}

export const SIGNATURE_BYTES = 65;
// The curve order n and floor(n / 2), big-endian.
const CURVE_ORDER = hexToBytes('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
const HALF_ORDER = hexToBytes('0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0');

/** Compares the 32 bytes of `bytes` at `offset` with `limit`. */
function compare32(bytes: Uint8Array, offset: number, limit: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = bytes[offset + i]! - limit[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function isZero32(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 32; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

export interface ParsedSignature {
  /** r ‖ s, 64 bytes. */
  compact: Uint8Array;
  /** 0 or 1. */
  recoveryId: 0 | 1;
}

/** Checks a 65-byte r ‖ s ‖ v signature: 1 ≤ r < n, 1 ≤ s ≤ n/2 (else HighS), v ∈ {27, 28}. */
export function parseSignature(signature: Hex | Uint8Array): ParsedSignature {
  let bytes: Uint8Array;
  if (typeof signature === 'string') {
    if (signature.length !== 2 + 2 * SIGNATURE_BYTES) throw new ZgasError('InvalidSignature', { reason: 'length', length: signature.length });
    try {
      bytes = hexToBytes(signature, SIGNATURE_BYTES);
    } catch {
      throw new ZgasError('InvalidSignature', { reason: 'not hex' });
    }
  } else if (signature instanceof Uint8Array) {
    bytes = signature;
  } else {
    throw new ZgasError('InvalidSignature', { reason: 'type' });
  }
  if (bytes.length !== SIGNATURE_BYTES) throw new ZgasError('InvalidSignature', { reason: 'length', length: bytes.length });
  const v = bytes[64]!;
  if (v !== 27 && v !== 28) throw new ZgasError('InvalidSignature', { reason: 'v must be 27 or 28', v });
  if (isZero32(bytes, 0) || compare32(bytes, 0, CURVE_ORDER) >= 0) throw new ZgasError('InvalidSignature', { reason: 'r out of range' });
  if (isZero32(bytes, 32) || compare32(bytes, 32, CURVE_ORDER) >= 0) throw new ZgasError('InvalidSignature', { reason: 's out of range' });
  if (compare32(bytes, 32, HALF_ORDER) > 0) throw new ZgasError('HighS', {});
  return { compact: bytes.subarray(0, 64), recoveryId: (v - 27) as 0 | 1 };
}

function checkDigest(digest: Uint8Array): void {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) throw new ZgasError('InvalidHash', { what: 'digest', length: digest?.length });
}

function checkPrivateKey(privateKey: Uint8Array): void {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32 || isZero32(privateKey, 0) || compare32(privateKey, 0, CURVE_ORDER) >= 0) {
    throw new ZgasError('InvalidPrivateKey', {});
  }
}

/** The address of a 65-byte uncompressed public key (0x04 ‖ x ‖ y): last 20 bytes of keccak256(x ‖ y). */
export function addressOfPublicKey(uncompressed: Uint8Array): Address {
  if (uncompressed.length !== 65 || uncompressed[0] !== 4) throw new ZgasError('InvalidSignature', { reason: 'public key' });
  return addressFromBytes(keccak256(uncompressed.subarray(1)).subarray(12));
}

function serialize(compact: Uint8Array, recoveryId: number): Hex {
  const out = new Uint8Array(SIGNATURE_BYTES);
  out.set(compact, 0);
  out[64] = 27 + recoveryId;
  return bytesToHex(out);
}

// ── native: libsecp256k1 through the `secp256k1` package's prebuilt addon ──────────────────
interface NativeSecp256k1 {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean, output?: Uint8Array): Uint8Array;
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array;
}

/**
 * Loads the native binding itself (`secp256k1/bindings` requires the compiled addon and throws
 * when it is missing), so a missing binary is reported instead of silently running the package's
 * pure-JS `elliptic` fallback.
 */
function loadNative(): { lib: NativeSecp256k1 } | { error: string } {
  try {
    const require = createRequire(import.meta.url);
    return { lib: require('secp256k1/bindings') as NativeSecp256k1 };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

const native = loadNative();
/** Why the native backend is unavailable, or null when it loaded. */
export const nativeLoadError: string | null = 'error' in native ? native.error : null;

function makeNativeBackend(lib: NativeSecp256k1): SignatureBackend {
  return {
    name: 'native',
    sign(digest, privateKey) {
      checkDigest(digest);
      checkPrivateKey(privateKey);
      // libsecp256k1 signs with RFC 6979 nonces and always returns a low-s signature.
      const { signature, recid } = lib.ecdsaSign(digest, privateKey);
      return serialize(signature, recid);
    },
    recover(digest, signature) {
      checkDigest(digest);
      const { compact, recoveryId } = parseSignature(signature);
      let publicKey: Uint8Array;
      try {
        publicKey = lib.ecdsaRecover(compact, recoveryId, digest, false, new Uint8Array(65));
      } catch {
        throw new ZgasError('InvalidSignature', { reason: 'no public key recovers from it' });
      }
      return addressOfPublicKey(publicKey);
    },
  };
}

/** libsecp256k1 (C), or null when its binary cannot be loaded on this platform. */
export const nativeBackend: SignatureBackend | null = 'lib' in native ? makeNativeBackend(native.lib) : null;

// ── noble: pure JS ────────────────────────────────────────────────────────────────────────
// Synchronous signing needs sync SHA-256 and HMAC-SHA256 for RFC 6979 nonces.
type NobleHash = NonNullable<typeof noble.hashes.sha256>;
type NobleHmac = NonNullable<typeof noble.hashes.hmacSha256>;
noble.hashes.sha256 ??= ((message: Uint8Array) => sha256(message)) as NobleHash;
noble.hashes.hmacSha256 ??= ((key: Uint8Array, message: Uint8Array) => hmac(sha256, key, message)) as NobleHmac;

export const nobleBackend: SignatureBackend = {
  name: 'noble',
  sign(digest, privateKey) {
    checkDigest(digest);
    checkPrivateKey(privateKey);
    // 'recovered' format is recid ‖ r ‖ s.
    const sig = noble.sign(digest, privateKey, { prehash: false, lowS: true, format: 'recovered' });
    return serialize(sig.subarray(1), sig[0]!);
  },
  recover(digest, signature) {
    checkDigest(digest);
    const { compact, recoveryId } = parseSignature(signature);
    const recovered = new Uint8Array(65);
    recovered[0] = recoveryId;
    recovered.set(compact, 1);
    let publicKey: Uint8Array;
    try {
      publicKey = noble.recoverPublicKey(recovered, digest, { prehash: false, isCompressed: false });
    } catch {
      throw new ZgasError('InvalidSignature', { reason: 'no public key recovers from it' });
    }
    return addressOfPublicKey(publicKey);
  },
};

// ── ethers: for comparison with what wallets do ─────────────────────────────────────────
export const ethersBackend: SignatureBackend = {
  name: 'ethers',
  sign(digest, privateKey) {
    checkDigest(digest);
    checkPrivateKey(privateKey);
    return new SigningKey(privateKey).sign(digest).serialized.toLowerCase() as Hex;
  },
  recover(digest, signature) {
    checkDigest(digest);
    const { compact, recoveryId } = parseSignature(signature);
    try {
      return addressFromBytes(hexToBytes(ethersRecoverAddress(digest, serialize(compact, recoveryId)), 20));
    } catch {
      throw new ZgasError('InvalidSignature', { reason: 'no public key recovers from it' });
    }
  },
};

/** The native backend when its binary loads, else noble. */
export const defaultBackend: SignatureBackend = nativeBackend ?? nobleBackend;

/** A backend by name: 'default' (native, else noble), 'native' (fails if its binary is missing), 'noble' or 'ethers'. */
export function backendByName(name: string): SignatureBackend {
  switch (name) {
    case 'default':
      return defaultBackend;
    case 'native':
      if (nativeBackend === null) throw new ZgasError('NotReady', { reason: 'native secp256k1 binding unavailable', error: nativeLoadError });
      return nativeBackend;
    case 'noble':
      return nobleBackend;
    case 'ethers':
      return ethersBackend;
    default:
      throw new ZgasError('InvalidField', { path: 'signatureBackend', value: name, expected: ['default', 'native', 'noble', 'ethers'] });
  }
}

/** The EIP-55 address controlled by a private key. */
export function addressOf(privateKey: Uint8Array | string): Address {
  const key = typeof privateKey === 'string' ? privateKeyBytes(privateKey) : privateKey;
  checkPrivateKey(key);
  const publicKey = 'lib' in native ? native.lib.publicKeyCreate(key, false) : noble.getPublicKey(key, false);
  return addressOfPublicKey(publicKey);
}

/** Parses a 0x private key into bytes (InvalidPrivateKey on anything else). */
export function privateKeyBytes(text: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = hexToBytes(text, 32);
  } catch {
    throw new ZgasError('InvalidPrivateKey', {});
  }
  checkPrivateKey(key);
  return key;
}
