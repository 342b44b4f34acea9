/**
 * The command line's keys: a directory of ethers JSON wallets (scrypt-encrypted keystore v3 files,
 * the format every Ethereum wallet imports), one file per key named after its label. Files are
 * written once (never overwritten) and readable by their owner only. A key leaves the file only as
 * an ethers `Wallet` in memory, for the one command that signs with it.
 */
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { ZgasError } from '../../contracts/errors.ts';
import { parseAddress, sameAddress } from '../../contracts/hex.ts';
import type { Address } from '../../contracts/types.ts';
import { decryptKeyFile, DEFAULT_SCRYPT, encryptKeyFile } from './keyfile.ts';

/** Where keys live unless --keystore or ZGAS_KEYSTORE says otherwise. */
export const defaultKeystoreDir = (home = homedir()): string => join(home, '.zgas', 'keys');

/** Key labels: a letter or digit, then letters, digits, `_`, `.` or `-`; they name files. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A keystore file is a few hundred bytes; refuse anything that could not be one. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export interface KeyEntry {
  name: string;
  address: Address;
  file: string;
}

/** scrypt's cost of new key files. */
export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

export class Keystore {
  /** `cost`: of the files this keystore writes (default: what ethers and geth write). */
  constructor(readonly dir: string, private readonly cost: ScryptCost = DEFAULT_SCRYPT) {}

  /** Every key, sorted by name; files that are not keystores are skipped. */
  async list(): Promise<KeyEntry[]> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: KeyEntry[] = [];
    for (const file of files.filter((f) => f.endsWith('.json')).sort()) {
      const path = join(this.dir, file);
      const address = addressOfKeyFile(await readFile(path, 'utf8').catch(() => ''));
      if (address !== null) entries.push({ name: file.slice(0, -'.json'.length), address, file: path });
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The key with this label or address. */
  async find(nameOrAddress: string): Promise<KeyEntry> {
    const keys = await this.list();
    const byName = keys.find((k) => k.name === nameOrAddress);
    if (byName !== undefined) return byName;
    if (/^0x[0-9a-fA-F]{40}$/.test(nameOrAddress)) {
      const byAddress = keys.find((k) => sameAddress(k.address, nameOrAddress));
      if (byAddress !== undefined) return byAddress;
    }
    throw new ZgasError('KeyNotFound', { key: nameOrAddress, keystore: this.dir });
  }

  /** A fresh random key, encrypted with `password`. */
  async create(name: string, password: string): Promise<KeyEntry> {
    return this.save(name, Wallet.createRandom().privateKey, password);
  }

  /** Saves a private key (0x + 64 hex digits) under `name`, encrypted with `password`. */
  async importPrivateKey(name: string, privateKey: string, password: string): Promise<KeyEntry> {
    let wallet: Wallet;
    try {
      wallet = new Wallet(privateKey.trim());
    } catch (error) {
      throw new ZgasError('InvalidPrivateKey', { reason: 'expected 0x followed by 64 hex digits' }, { cause: error });
    }
    return this.save(name, wallet.privateKey, password);
  }

  /** Saves an existing JSON wallet as it is, once `password` is shown to decrypt it. */
  async importJson(name: string, json: string, password: string): Promise<KeyEntry> {
    if (json.length > MAX_KEY_FILE_BYTES || addressOfKeyFile(json) === null) throw new ZgasError('InvalidField', { path: 'keyfile', reason: 'not an Ethereum JSON wallet (keystore v3)' });
    const account = await decrypt(json, password, name);
    return this.write(name, account.address, json);
  }

  /** The key as a wallet that can sign. */
  async unlock(nameOrAddress: string, password: string): Promise<{ entry: KeyEntry; wallet: Wallet }> {
    const entry = await this.find(nameOrAddress);
    const json = await readFile(entry.file, 'utf8');
    const account = await decrypt(json, password, entry.name);
    return { entry, wallet: new Wallet(account.privateKey) };
  }

  private async save(name: string, privateKey: string, password: string): Promise<KeyEntry> {
    const wallet = new Wallet(privateKey);
    const json = await encryptKeyFile(wallet.privateKey, password, this.cost);
    return this.write(name, parseAddress(wallet.address), json);
  }

  private async write(name: string, address: Address, json: string): Promise<KeyEntry> {
    if (!LABEL.test(name)) throw new ZgasError('InvalidField', { path: 'name', reason: 'a key name is a letter or digit, then up to 63 letters, digits, _, . or -' });
    const existing = await this.list();
    const clash = existing.find((k) => k.name === name || sameAddress(k.address, address));
    if (clash !== undefined) throw new ZgasError('KeyExists', { name: clash.name, address: clash.address });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${name}.json`);
    try {
      await writeFile(file, json, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ZgasError('KeyExists', { name });
      throw error;
    }
    await chmod(file, 0o600);
    return { name, address, file };
  }
}

/** The address a keystore file states (without decrypting it), or null for anything else. */
function addressOfKeyFile(text: string): Address | null {
  if (text.length === 0 || text.length > MAX_KEY_FILE_BYTES) return null;
  try {
    const json = JSON.parse(text) as { address?: unknown };
    if (typeof json.address !== 'string') return null;
    return parseAddress(json.address.startsWith('0x') ? json.address : `0x${json.address}`);
  } catch {
    return null;
  }
}

async function decrypt(json: string, password: string, name: string): Promise<{ address: Address; privateKey: string }> {
  try {
    return await decryptKeyFile(json, password);
  } catch (error) {
    if (error instanceof ZgasError) throw new ZgasError(error.code, { ...error.details, key: name });
    throw error;
  }
}
