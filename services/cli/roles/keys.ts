/** `zgas keys new|import|list`: the encrypted keystore. */
import { readFile } from 'node:fs/promises';
import { ZgasError } from '../../../contracts/errors.ts';
import { table } from '../format.ts';
import type { KeyEntry } from '../keystore.ts';
import type { Cli } from './context.ts';

const entryJson = (k: KeyEntry) => ({ name: k.name, address: k.address, file: k.file });

export async function newKey(cli: Cli, [name]: string[]): Promise<void> {
  const keystore = cli.keystore();
  const password = await cli.password(`password for the new key ${name ?? ''}: `, true);
  const entry = await keystore.create(name ?? '', password);
  cli.emit(entryJson(entry), `created key ${entry.name}\naddress ${entry.address}\nfile    ${entry.file}`);
}

export async function importKey(cli: Cli, [name]: string[], opts: Record<string, unknown>): Promise<void> {
  const keystore = cli.keystore();
  const walletFile = opts['jsonWallet'] as string | undefined;
  let entry: KeyEntry;
  if (walletFile !== undefined) {
    const json = await readFile(walletFile, 'utf8');
    entry = await keystore.importJson(name ?? '', json, await cli.password(`password of ${walletFile}: `));
  } else {
    const keyFile = opts['privateKeyFile'] as string | undefined;
    const privateKey = keyFile !== undefined ? await readFile(keyFile, 'utf8') : await readStdin();
    if (privateKey.trim() === '') throw new ZgasError('InvalidPrivateKey', { reason: 'no key given: pass --private-key-file FILE or pipe the 0x key on stdin' });
    entry = await keystore.importPrivateKey(name ?? '', privateKey, await cli.password(`password for the key ${name ?? ''}: `, true));
  }
  cli.emit(entryJson(entry), `imported key ${entry.name}\naddress ${entry.address}\nfile    ${entry.file}`);
}

export async function listKeys(cli: Cli): Promise<void> {
  const keystore = cli.keystore();
  const keys = await keystore.list();
  cli.emit({ keystore: keystore.dir, keys: keys.map(entryJson) }, () =>
    keys.length === 0 ? `no keys in ${keystore.dir} (create one with \`zgas keys new NAME\`)` : table(keys.map((k) => [k.name, k.address] as const)),
  );
}

/** stdin to its end (a piped key); a terminal gets a hint instead of a silent wait. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY === true) process.stderr.write('paste the 0x private key, then Ctrl-D: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
