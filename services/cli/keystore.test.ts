import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptKeystoreJson, Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { isZgasError } from '../../contracts/errors.ts';
import { Keystore } from './keystore.ts';

// A light scrypt cost: the format is the same, the tests stay fast.
const fresh = (): Keystore => new Keystore(join(mkdtempSync(join(tmpdir(), 'zgas-keys-')), 'keys'), { N: 1024, r: 8, p: 1 });
const failsWith = async (code: string, work: Promise<unknown>): Promise<void> => {
  await expect(work).rejects.toSatisfy((e: unknown) => isZgasError(e) && e.code === code);
};
const KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';

describe('keystore', () => {
  it('imports a private key as an encrypted JSON wallet only its owner can read, and unlocks it with the password', async () => {
    const ks = fresh();
    const entry = await ks.importPrivateKey('alice', KEY, 'secret');
    expect(entry.address).toBe(new Wallet(KEY).address);
    const text = readFileSync(entry.file, 'utf8');
    expect(text).not.toContain(KEY.slice(2));
    expect(statSync(entry.file).mode & 0o777).toBe(0o600);
    expect(await ks.list()).toEqual([entry]);
    expect((await ks.find(entry.address.toLowerCase())).name).toBe('alice');
    const { wallet } = await ks.unlock('alice', 'secret');
    expect(wallet.privateKey).toBe(KEY);
    // An Ethereum JSON wallet made elsewhere imports as it is, once the password opens it.
    const other = fresh();
    await failsWith('WrongPassword', other.importJson('a2', text, 'nope'));
    expect((await other.importJson('a2', text, 'secret')).address).toBe(entry.address);
  }, 60_000);

  it('refuses a wrong password, a second key of the same name or address, bad names and unknown keys', async () => {
    const ks = fresh();
    await ks.importPrivateKey('bob', KEY, 'pw');
    await failsWith('WrongPassword', ks.unlock('bob', 'not it'));
    await failsWith('KeyExists', ks.importPrivateKey('bob2', KEY, 'pw'));
    await failsWith('KeyExists', ks.create('bob', 'pw'));
    await failsWith('InvalidField', ks.create('../evil', 'pw'));
    await failsWith('KeyNotFound', ks.find('carol'));
    await failsWith('InvalidPrivateKey', ks.importPrivateKey('x', '0x1234', 'pw'));
    expect(await fresh().list()).toEqual([]);
  }, 60_000);
});

describe('key files', () => {
  it('are the JSON wallets ethers reads and writes, both ways', async () => {
    const { encryptKeyFile, decryptKeyFile } = await import('./keyfile.ts');
    const mine = await encryptKeyFile(KEY, 'pw', { N: 1024, r: 8, p: 1 });
    expect((await Wallet.fromEncryptedJson(mine, 'pw')).privateKey).toBe(KEY);
    const theirs = await encryptKeystoreJson({ address: new Wallet(KEY).address, privateKey: KEY }, 'pw', { scrypt: { N: 1024 } });
    expect((await decryptKeyFile(theirs, 'pw')).privateKey).toBe(KEY);
    await failsWith('WrongPassword', decryptKeyFile(theirs, 'pW'));
  }, 60_000);
});

describe('hostile key files', () => {
  it('are refused before any work: a scrypt cost that would exhaust memory, a MAC that does not match, a stated address of another key', async () => {
    const { encryptKeyFile, decryptKeyFile } = await import('./keyfile.ts');
    const json = JSON.parse(await encryptKeyFile(KEY, 'pw', { N: 1024, r: 8, p: 1 })) as { address: string; crypto: { kdfparams: { n: number }; mac: string } };
    const costly = structuredClone(json);
    costly.crypto.kdfparams.n = 2 ** 30;
    await failsWith('InvalidField', decryptKeyFile(JSON.stringify(costly), 'pw'));
    const tampered = structuredClone(json);
    tampered.crypto.mac = `${tampered.crypto.mac.slice(0, -2)}00`;
    await failsWith('WrongPassword', decryptKeyFile(JSON.stringify(tampered), 'pw'));
    const lying = structuredClone(json);
    lying.address = '1111111111111111111111111111111111111111';
    await failsWith('InvalidField', decryptKeyFile(JSON.stringify(lying), 'pw'));
  });
});
