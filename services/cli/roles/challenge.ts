/**
 * `zgas challenge`: re-executes a call here with the runner's metered runtime (the client's
 * Verifier) and, when that disproves the receipt, sends `Challenge(receipt, input, preState)` —
 * which slashes the provider. The call comes from the session's local record (`--session`,
 * `--seq`) or from files (`--receipt`, `--input-*`, `--pre-state`). A receipt re-execution upholds
 * is not sent unless `--force`: the bond would go to the provider.
 */
import { readFile } from 'node:fs/promises';
import { ZgasError } from '../../../contracts/errors.ts';
import { decodeState } from '../../../contracts/hash.ts';
import { bytesToHex, hexToBytes, parseHash } from '../../../contracts/hex.ts';
import { receiptFromJson, writesFromJson } from '../../../contracts/json.ts';
import type { Hash, StateWrite } from '../../../contracts/types.ts';
import { SessionState, Verifier } from '../../client/index.ts';
import type { CompletedCall } from '../../client/index.ts';
import { readSessionRecord } from '../session-record.ts';
import { withProgress } from '../progress.ts';
import { groupDigits, table } from '../format.ts';
import type { Cli } from './context.ts';

async function fromRecord(cli: Cli, sessionId: Hash, seqText: string | undefined): Promise<CompletedCall> {
  const record = await readSessionRecord(cli.home, sessionId);
  if (record === null) throw new ZgasError('NoLocalSession', { sessionId });
  const seq = seqText === undefined ? record.calls.at(-1)?.seq : BigInt(seqText);
  const call = record.calls.find((c) => c.seq === seq);
  if (call === undefined) throw new ZgasError('NoLocalSession', { sessionId, seq: seqText ?? 'last', reason: `the record holds calls 1–${record.calls.length}` });
  return call;
}

async function fromFiles(opts: Record<string, unknown>): Promise<CompletedCall> {
  const receipt = receiptFromJson(JSON.parse(await readFile(String(opts['receipt']), 'utf8')) as unknown, 'receipt');
  let input: Uint8Array;
  if (typeof opts['inputHex'] === 'string') input = hexToBytes(opts['inputHex']);
  else if (typeof opts['inputFile'] === 'string') input = new Uint8Array(await readFile(opts['inputFile']));
  else throw new ZgasError('InvalidField', { path: 'input', reason: 'give the call input with --input-hex or --input-file' });
  let preState = SessionState.empty();
  if (typeof opts['preState'] === 'string') {
    const text = (await readFile(opts['preState'], 'utf8')).trim();
    const writes: StateWrite[] = text.startsWith('0x')
      ? decodeState(hexToBytes(text)).map(([key, value]) => ({ key: bytesToHex(key), value: bytesToHex(value) }))
      : writesFromJson(JSON.parse(text) as unknown, 'preState');
    preState = preState.apply(writes);
  }
  return { seq: receipt.seq, input, output: new Uint8Array(0), writes: [], preState, postState: preState, receipt };
}

export async function challenge(cli: Cli, _args: string[], opts: Record<string, unknown>): Promise<void> {
  let call: CompletedCall;
  if (typeof opts['session'] === 'string') call = await fromRecord(cli, parseHash(opts['session']), opts['seq'] as string | undefined);
  else if (typeof opts['receipt'] === 'string') call = await fromFiles(opts);
  else throw new ZgasError('InvalidField', { path: 'challenge', reason: 'name the call: --session ID [--seq N], or --receipt FILE --input-hex|--input-file [--pre-state FILE]' });
  const sessionId = call.receipt.sessionId;
  const api = await cli.api();
  const challenger = await cli.signer();
  const session = await api.session(sessionId);
  const zApp = await api.zApp(session.zAppId);
  const module = await api.getModule(parseHash(zApp.moduleHash));
  const verifier = new Verifier({ api, challenger, module, autoChallenge: false });
  const verification = await withProgress(`re-executing seq ${call.seq}`, () => verifier.verify(sessionId, call), { quiet: cli.json });
  const disproved = verification.disproved.length > 0;
  if (!disproved && opts['force'] !== true) {
    cli.emit({ sessionId, seq: call.seq.toString(), disproved: [], sent: false, rerun: verification.rerun }, `re-execution upholds receipt ${call.seq} (${groupDigits(verification.rerun.callGas)} gas): not challenged (--force sends it anyway; the bond would go to the provider)`);
    process.exitCode = 2;
    return;
  }
  const applied = await withProgress('Challenge: waiting for the call\'s momentum', () => verifier.challenge(call), { quiet: cli.json });
  const events = (applied.result?.events ?? []) as Array<Record<string, unknown>>;
  const fraud = events.find((e) => e['type'] === 'FraudProven');
  const failed = events.find((e) => e['type'] === 'ChallengeFailed');
  cli.emit(
    { sessionId, seq: call.seq.toString(), disproved: verification.disproved, claimed: verification.claimed, rerun: verification.rerun, sent: true, callHash: applied.callHash, momentumHeight: applied.momentumHeight ?? null, fraud: fraud ?? null, challengeFailed: failed ?? null },
    () => table([
      ['re-executed', `seq ${call.seq}: receipt says ${groupDigits(verification.claimed.callGas)} gas, re-execution ${groupDigits(verification.rerun.callGas)} gas`],
      ['disproved', disproved ? verification.disproved.join(', ') : 'nothing'],
      ['result', fraud !== undefined ? `fraud proven: provider slashed ${String(fraud['slashed'])} base units, reward ${String(fraud['reward'])} to you` : failed !== undefined ? 'the receipt holds: the bond went to the provider' : 'applied'],
      ['momentum', applied.momentumHeight ?? '?'],
    ]),
  );
}
