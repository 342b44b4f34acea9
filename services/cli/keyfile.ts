/**
 * Ethereum JSON wallets (Web3 Secret Storage, keystore v3) with Node's native scrypt: the same files
 * ethers and every wallet read and write, opened in a fraction of the time the pure-JS scrypt takes
 * (a command that signs opens one). scrypt (or pbkdf2 on import) derives 32 bytes from the
 * password; the first 16 key AES-128-CTR, the last 16 with the ciphertext give the MAC
 * keccak256(dk[16..32] ‖ ciphertext), which is how a wrong password is told from a right one.
 */
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { computeAddress, getBytes, hexlify, keccak256 } from 'ethers';
import { ZgasError } from '../../contracts/errors.ts';
import { parseAddress } from '../../contracts/hex.ts';
import type { Address } from '../../contracts/types.ts';

const scryptAsync = promisify(scrypt) as (password: string | Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** The scrypt cost ethers and geth write by default: 2^17 × 8 × 1 (128 MiB, about a second). */
export const DEFAULT_SCRYPT = Object.freeze({ N: 131_072, r: 8, p: 1 });
/** The most scrypt memory a key file may ask for (a hostile file must not exhaust the machine). */
const MAX_SCRYPT_BYTES = 1024 * 1024 * 1024;

interface KeyFileJson {
  address: string;
  id: string;
  version: 3;
  crypto: {
    cipher: 'aes-128-ctr';
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: 'scrypt' | 'pbkdf2';
    kdfparams: Record<string, unknown>;
    mac: string;
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (text: unknown, path: string): Buffer => {
  if (typeof text !== 'string' || !/^(0x)?([0-9a-fA-F]{2})*$/.test(text)) throw new ZgasError('InvalidField', { path, reason: 'expected hex' });
  return Buffer.from(text.replace(/^0x/, ''), 'hex');
};
const int = (v: unknown, path: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new ZgasError('InvalidField', { path, reason: 'expected a positive integer' });
  return v;
};
const mac = (dk: Buffer, ciphertext: Buffer): Buffer => Buffer.from(getBytes(keccak256(Buffer.concat([dk.subarray(16, 32), ciphertext]))));

/** Encrypts a private key (0x hex) into a keystore v3 JSON text. */
export async function encryptKeyFile(privateKey: string, password: string, cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<string> {
  const key = bytes(privateKey, 'privateKey');
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const dk = await scryptAsync(password.normalize('NFKC'), salt, 32, { ...cost, maxmem: MAX_SCRYPT_BYTES });
  const cipher = createCipheriv('aes-128-ctr', dk.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(key), cipher.final()]);
  const json: KeyFileJson = {
    address: computeAddress(hexlify(key)).slice(2).toLowerCase(),
    id: randomUUID(),
    version: 3,
    crypto: {
      cipher: 'aes-128-ctr', cipherparams: { iv: hex(iv) }, ciphertext: hex(ciphertext),
      kdf: 'scrypt', kdfparams: { salt: hex(salt), n: cost.N, dklen: 32, p: cost.p, r: cost.r }, mac: hex(mac(dk, ciphertext)),
    },
  };
  return JSON.stringify(json);
}

/** Decrypts a keystore v3 JSON text: its address and 0x private key; WrongPassword when the MAC does not match. */
export async function decryptKeyFile(text: string, password: string): Promise<{ address: Address; privateKey: string }> {
  let json: KeyFileJson;
  try {
    json = JSON.parse(text) as KeyFileJson;
  } catch {
    throw new ZgasError('InvalidField', { path: 'keyfile', reason: 'not JSON' });
  }
  // Geth and ethers write `Crypto`, the specification `crypto`.
  const c = json.crypto ?? (json as unknown as { Crypto?: KeyFileJson['crypto'] }).Crypto;
  if (json.version !== 3 || c?.cipher !== 'aes-128-ctr') throw new ZgasError('InvalidField', { path: 'keyfile', reason: 'not a keystore v3 file with aes-128-ctr' });
  const kp = c.kdfparams;
  const salt = bytes(kp['salt'], 'kdfparams.salt');
  const dklen = int(kp['dklen'], 'kdfparams.dklen');
  if (dklen < 32) throw new ZgasError('InvalidField', { path: 'kdfparams.dklen', reason: 'at least 32' });
  let dk: Buffer;
  const secret = password.normalize('NFKC');
  if (c.kdf === 'scrypt') {
    const N = int(kp['n'], 'kdfparams.n');
    const r = int(kp['r'], 'kdfparams.r');
    const p = int(kp['p'], 'kdfparams.p');
    if (128 * N * r > MAX_SCRYPT_BYTES / 2) throw new ZgasError('InvalidField', { path: 'kdfparams', reason: 'scrypt cost too high' });
    dk = await scryptAsync(secret, salt, dklen, { N, r, p, maxmem: MAX_SCRYPT_BYTES });
  } else if (c.kdf === 'pbkdf2') {
    if (kp['prf'] !== 'hmac-sha256') throw new ZgasError('InvalidField', { path: 'kdfparams.prf', reason: 'only hmac-sha256' });
    dk = pbkdf2Sync(secret, salt, int(kp['c'], 'kdfparams.c'), dklen, 'sha256');
  } else {
    throw new ZgasError('InvalidField', { path: 'crypto.kdf', reason: 'scrypt or pbkdf2' });
  }
  const ciphertext = bytes(c.ciphertext, 'crypto.ciphertext');
  const expected = bytes(c.mac, 'crypto.mac');
  const got = mac(dk, ciphertext);
  if (expected.length !== got.length || !timingSafeEqual(expected, got)) throw new ZgasError('WrongPassword');
  const decipher = createDecipheriv('aes-128-ctr', dk.subarray(0, 16), bytes(c.cipherparams?.iv, 'cipherparams.iv'));
  const key = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  if (key.length !== 32) throw new ZgasError('InvalidField', { path: 'crypto.ciphertext', reason: 'not a 32-byte key' });
  const privateKey = `0x${hex(key)}`;
  const address = parseAddress(computeAddress(privateKey));
  if (typeof json.address === 'string' && json.address !== '' && parseAddress(json.address.startsWith('0x') ? json.address : `0x${json.address}`) !== address) {
    throw new ZgasError('InvalidField', { path: 'address', reason: 'the file states another address than its key has' });
  }
  return { address, privateKey };
}
