/**
 * `zgas session open|call|abort|close|finalize|status`: the user's commands. `call` runs one
 * invocation on the provider's runner through the typed client's SessionClient, which checks the
 * receipt against what it asked for and the state it holds; the session's local record (calls,
 * receipts, from which the state is rebuilt) lets the next `session call` continue from there.
 */
import { readFile } from 'node:fs/promises';
import { ZgasError } from '../../../contracts/errors.ts';
import { bytesToHex, hexToBytes, parseAddress, parseHash, sameAddress, utf8Bytes } from '../../../contracts/hex.ts';
import { callToJson, receiptToJson } from '../../../contracts/json.ts';
import { CallStatus } from '../../../contracts/types.ts';
import type { Hash } from '../../../contracts/types.ts';
import { parseGas, parseQsr } from '../../../contracts/units.ts';
import { request, SessionClient } from '../../client/index.ts';
import type { SessionView, SettlementClient } from '../../client/index.ts';
import { durationText, groupDigits, parseDurationSeconds, parseGasAmount, parseQsrAmount, qsrText, table, timeText } from '../format.ts';
import { withProgress } from '../progress.ts';
import { readSessionRecord, sessionRecordPath, stateOf, writeSessionRecord } from '../session-record.ts';
import type { SessionRecord } from '../session-record.ts';
import type { Cli } from './context.ts';
import { chainTime } from './chain-time.ts';

const STATUS_NAMES: Record<number, string> = { [CallStatus.Ok]: 'Ok', [CallStatus.Trapped]: 'Trapped', [CallStatus.OutOfGas]: 'OutOfGas', [CallStatus.Aborted]: 'Aborted' };
/** How long `call` waits for its receipt to settle with --wait-settled. */
const SETTLE_WAIT_MS = 120_000;

function sessionRows(s: SessionView): Array<readonly [string, string]> {
  return [
    ['session', s.id], ['zApp', s.zAppId], ['provider', s.provider], ['user', s.user],
    ['status', `${s.status}${s.stopCall ? ' (aborted)' : ''}${s.slashed ? ' (provider slashed)' : ''}`],
    ['price', `${qsrText(s.price)} per Mgas`],
    ['gas', `${groupDigits(s.settledGas)} settled of ${groupDigits(s.gasLimit)} (billed ${groupDigits(s.billedGas)}, seq ${s.lastSeq})`],
    ['hold', qsrText(s.hold)],
    ['expires', timeText(s.expiresAt)],
    ...(s.closesAt === null ? [] : [['closes', timeText(s.closesAt)] as const]),
  ];
}

export async function open(cli: Cli, [id]: string[], opts: Record<string, unknown>): Promise<void> {
  const zAppId = parseHash(id);
  const providerAddress = parseAddress(opts['provider']);
  const gasLimit = parseGasAmount(String(opts['gas']), 'gas');
  const durationSeconds = parseDurationSeconds(String(opts['duration'] ?? '1h'));
  const api = await cli.api();
  const signer = await cli.signer();
  const me = parseAddress(await signer.getAddress());
  const user = opts['user'] === undefined ? me : parseAddress(opts['user']);
  const offer = await api.provider(providerAddress);
  // Signed for the offer as read now: a provider that raises it before the call lands gets OfferChanged, not more.
  const maxPricePerMgas = opts['maxPrice'] === undefined ? parseQsr(offer.pricePerMgas) : parseQsrAmount(String(opts['maxPrice']), 'max-price');
  const maxUpfrontGas = opts['maxUpfrontGas'] === undefined ? parseGas(offer.upfrontGas) : parseGasAmount(String(opts['maxUpfrontGas']), 'max-upfront-gas');
  const applied = await cli.execute({ name: 'OpenSession', zAppId, provider: providerAddress, user, gasLimit, durationSeconds, maxPricePerMgas, maxUpfrontGas }, signer);
  const sessionId = applied.created;
  if (sessionId === null) throw new ZgasError('Internal', { reason: 'OpenSession applied without a session id', callHash: applied.callHash });
  const session = await api.session(sessionId);
  let recordPath: string | null = null;
  if (sameAddress(user, me)) recordPath = await writeSessionRecord(cli.home, newRecord(cli, api, sessionId, user));
  cli.emit({ sessionId, momentumHeight: applied.momentumHeight ?? null, session, record: recordPath }, () =>
    `${table(sessionRows(session))}\n${recordPath === null ? `the user ${user} runs calls with: zgas session call ${sessionId} … --key <their key>` : `record  ${recordPath}`}`,
  );
}

function newRecord(cli: Cli, api: SettlementClient, sessionId: Hash, user: SessionRecord['user']): SessionRecord {
  return { sessionId, apiUrl: api.baseUrl, runnerUrl: cli.runnerUrl, chainId: api.domain.chainId, contract: api.domain.verifyingContract, user, stopped: false, calls: [], pending: null };
}

async function inputOf(args: string[], opts: Record<string, unknown>): Promise<Uint8Array> {
  if (typeof opts['inputHex'] === 'string') return hexToBytes(opts['inputHex']);
  if (typeof opts['inputFile'] === 'string') return new Uint8Array(await readFile(opts['inputFile']));
  return utf8Bytes(args[1] ?? '');
}

/** The record of the session, or a fresh one when the user has none yet (a session the owner opened for them). */
async function recordFor(cli: Cli, api: SettlementClient, sessionId: Hash, user: SessionRecord['user']): Promise<SessionRecord> {
  const saved = await readSessionRecord(cli.home, sessionId);
  if (saved !== null) return cli.opts.runnerUrl === undefined ? saved : { ...saved, runnerUrl: cli.runnerUrl };
  return newRecord(cli, api, sessionId, user);
}

export async function call(cli: Cli, args: string[], opts: Record<string, unknown>): Promise<void> {
  const sessionId = parseHash(args[0]);
  const input = await inputOf(args, opts);
  const api = await cli.api();
  const signer = await cli.signer();
  const record = await recordFor(cli, api, sessionId, parseAddress(await signer.getAddress()));
  // Resuming checks the runner's latest receipt and sends a call whose answer was lost again, so the record catches up first.
  const client = await SessionClient.resume({
    api, runnerUrl: record.runnerUrl, sessionId, user: signer, calls: record.calls, stopped: record.stopped, pending: record.pending,
  });
  record.calls = [...client.calls];
  record.stopped = client.stopped;
  const callGasLimit = client.callGasLimitFor(opts['callGas'] === undefined ? undefined : parseGasAmount(String(opts['callGas']), 'call-gas'));
  // Saved before it is sent: should its answer be lost, the next command sends the very same call again.
  record.pending = { seq: client.seq, input, callGasLimit };
  await writeSessionRecord(cli.home, record);
  const done = await withProgress(`call ${client.seq} on ${record.runnerUrl}`, () => client.call(input, { callGasLimit }), { quiet: cli.json });
  record.calls.push(done);
  record.pending = null;
  if (done.receipt.status === CallStatus.Aborted) record.stopped = true;
  const path = await writeSessionRecord(cli.home, record);
  let settledSeq: string | null = null;
  if (opts['waitSettled'] === true) {
    const settled = await withProgress(`waiting for receipt ${done.seq} to settle`, () => api.waitForSettled(sessionId, done.seq, SETTLE_WAIT_MS), { quiet: cli.json });
    settledSeq = settled.lastSeq;
  }
  const r = done.receipt;
  const format = opts['output'] === 'hex' ? 'hex' : 'text';
  const outputText = format === 'hex' ? bytesToHex(done.output) : new TextDecoder().decode(done.output);
  cli.emit(
    { sessionId, seq: r.seq.toString(), status: STATUS_NAMES[r.status] ?? String(r.status), output: bytesToHex(done.output), outputText: new TextDecoder().decode(done.output), receipt: receiptToJson(r), settledSeq, record: path },
    () => table([
      ['output', outputText],
      ['receipt', `seq ${r.seq} · ${STATUS_NAMES[r.status] ?? r.status} · ${groupDigits(r.callGas)} gas (limit ${groupDigits(r.callGasLimit)}) · ${groupDigits(r.cumulativeGas)} in the session`],
      ['checked', 'signer, invocation, output hash and post-state match; acknowledged by the next call'],
      ...(settledSeq === null ? [] : [['settled', `up to seq ${settledSeq}`] as const]),
    ]),
  );
}

export async function abort(cli: Cli, [id]: string[]): Promise<void> {
  const sessionId = parseHash(id);
  const api = await cli.api();
  const signer = await cli.signer();
  const saved = await readSessionRecord(cli.home, sessionId);
  const runnerUrl = cli.opts.runnerUrl !== undefined || saved === null ? cli.runnerUrl : saved.runnerUrl;
  // The same signed Abort goes to the API and straight to the runner (the fast path), as the session client does.
  const signed = await api.signCall(signer, { name: 'Abort', sessionId });
  const [callHash, runnerStopped] = await Promise.all([
    api.submitCall(signed),
    request(`${runnerUrl}/v1/sessions/${sessionId}/abort`, { json: callToJson(signed) }).then(() => true, () => false),
  ]);
  if (saved !== null) await writeSessionRecord(cli.home, { ...saved, stopped: true });
  const applied = await withProgress('Abort: waiting for the call\'s momentum', () => api.waitForCall(callHash), { quiet: cli.json });
  const session = await api.session(sessionId);
  cli.emit({ sessionId, callHash, runnerStopped, momentumHeight: applied.momentumHeight ?? null, session }, () =>
    `aborted: runner ${runnerStopped ? 'stopped the running call at once' : 'will stop on the sequencer\'s announcement'}; status ${session.status}, may be finalized from ${session.closesAt === null ? '?' : timeText(session.closesAt)}`,
  );
}

export async function close(cli: Cli, [id]: string[]): Promise<void> {
  const sessionId = parseHash(id);
  await cli.execute({ name: 'CloseSession', sessionId });
  const saved = await readSessionRecord(cli.home, sessionId);
  if (saved !== null) await writeSessionRecord(cli.home, { ...saved, stopped: true });
  const session = await (await cli.api()).session(sessionId);
  cli.emit({ sessionId, session }, `closing: no new call runs; finished calls still settle; may be finalized from ${session.closesAt === null ? '?' : timeText(session.closesAt)}`);
}

export async function finalize(cli: Cli, [id]: string[], opts: Record<string, unknown>): Promise<void> {
  const sessionId = parseHash(id);
  const api = await cli.api();
  if (opts['wait'] === true) {
    await withProgress('waiting until the session can be finalized', async (p) => {
      for (;;) {
        const s = await api.session(sessionId);
        const due = s.status === 'closing' && s.closesAt !== null ? BigInt(s.closesAt) : BigInt(s.expiresAt);
        const now = await chainTime(api, s.provider);
        if (s.status === 'closed' || now >= due) return;
        p.update(`chain time ${timeText(now)}, due ${timeText(due)} (${durationText(due - now)} of chain time)`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }, { quiet: cli.json });
  }
  const before = await api.session(sessionId);
  const zAppBefore = await api.zApp(before.zAppId);
  await cli.execute({ name: 'FinalizeSession', sessionId });
  const session = await api.session(sessionId);
  const zApp = await api.zApp(session.zAppId);
  const released = BigInt(zApp.available) - BigInt(zAppBefore.available);
  cli.emit({ sessionId, session, available: zApp.available }, `finalized: ${groupDigits(session.billedGas)} gas billed; about ${qsrText(released > 0n ? released : 0n)} of the hold back to the zApp (available ${qsrText(zApp.available)})`);
}

export async function status(cli: Cli, [id]: string[]): Promise<void> {
  const sessionId = parseHash(id);
  const api = await cli.api();
  const session = await api.session(sessionId);
  const record = await readSessionRecord(cli.home, sessionId);
  const last = record?.calls.at(-1);
  const local = record === null ? null : {
    path: sessionRecordPath(cli.home, sessionId), runnerUrl: record.runnerUrl, calls: record.calls.length, stopped: record.stopped,
    stateHash: stateOf(record).hash(), ackedGas: (last?.receipt.cumulativeGas ?? 0n).toString(),
    lastReceipt: last === undefined ? null : receiptToJson(last.receipt),
  };
  cli.emit({ session, local }, () => table([
    ...sessionRows(session),
    ['local record', local === null ? 'none on this machine' : `${local.calls} calls checked, ${groupDigits(local.ackedGas)} gas acknowledged, state ${local.stateHash.slice(0, 18)}…${local.stopped ? ', stopped' : ''}`],
    ...(local !== null && BigInt(session.lastSeq) < BigInt(local.calls) ? [['unsettled', `seq ${BigInt(session.lastSeq) + 1n}–${local.calls} not settled yet`] as const] : []),
  ]));
}
