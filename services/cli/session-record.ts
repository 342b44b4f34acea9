/**
 * The user's local record of a session, one JSON file per session, so that successive
 * `zgas session call` commands continue it: where its runner is, every checked call (input,
 * output, state writes, the settlement receipt), the call sent but not yet answered (sent again
 * when the session resumes, should its answer be lost) and whether it was stopped. The state is never
 * stored on its own: it is the writes replayed from the empty state, so any call's pre-state can
 * be rebuilt for a challenge. Written to a temporary file and renamed, so a crash leaves the old
 * record whole.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZgasError } from '../../contracts/errors.ts';
import { bytesToHex, hexToBytes, parseAddress, parseHash } from '../../contracts/hex.ts';
import { receiptFromJson, receiptToJson, writesFromJson, writesToJson } from '../../contracts/json.ts';
import type { ReceiptJson, StateWriteJson } from '../../contracts/json.ts';
import type { Address, Hash, Hex } from '../../contracts/types.ts';
import { SessionState } from '../client/state.ts';
import type { CompletedCall } from '../client/session.ts';
import type { PendingCall } from '../client/resume.ts';
import { parseGas } from '../../contracts/units.ts';

export const SESSION_RECORD_VERSION = 1;

interface CallJson {
  seq: string;
  input: Hex;
  output: Hex;
  writes: StateWriteJson[];
  receipt: ReceiptJson;
}

interface RecordJson {
  version: number;
  sessionId: Hash;
  apiUrl: string;
  runnerUrl: string;
  chainId: string;
  contract: Address;
  user: Address;
  stopped: boolean;
  calls: CallJson[];
  /** Absent in records written before a call was ever left pending. */
  pending?: { seq: string; input: Hex; callGasLimit: string } | null;
}

export interface SessionRecord {
  sessionId: Hash;
  apiUrl: string;
  runnerUrl: string;
  chainId: bigint;
  contract: Address;
  user: Address;
  stopped: boolean;
  /** Every checked call in seq order, with its pre- and post-state rebuilt. */
  calls: CompletedCall[];
  /** The call signed and sent whose answer was not checked yet. */
  pending: PendingCall | null;
}

export const sessionRecordPath = (home: string, sessionId: string): string => join(home, 'sessions', `${parseHash(sessionId)}.json`);

/** The record, or null when this machine has none for the session. */
export async function readSessionRecord(home: string, sessionId: string): Promise<SessionRecord | null> {
  let text: string;
  try {
    text = await readFile(sessionRecordPath(home, sessionId), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const json = JSON.parse(text) as RecordJson;
  if (json.version !== SESSION_RECORD_VERSION) throw new ZgasError('InvalidField', { path: 'version', reason: `session record version ${json.version}; this zgas reads ${SESSION_RECORD_VERSION}` });
  let state = SessionState.empty();
  const calls: CompletedCall[] = json.calls.map((c, i) => {
    const writes = writesFromJson(c.writes, `calls.${i}.writes`);
    const preState = state;
    state = state.apply(writes);
    return { seq: BigInt(c.seq), input: hexToBytes(c.input), output: hexToBytes(c.output), writes, preState, postState: state, receipt: receiptFromJson(c.receipt, `calls.${i}.receipt`) };
  });
  return {
    sessionId: parseHash(json.sessionId), apiUrl: json.apiUrl, runnerUrl: json.runnerUrl, chainId: BigInt(json.chainId),
    contract: parseAddress(json.contract), user: parseAddress(json.user), stopped: json.stopped, calls,
    pending: json.pending == null ? null : { seq: BigInt(json.pending.seq), input: hexToBytes(json.pending.input), callGasLimit: parseGas(json.pending.callGasLimit) },
  };
}

export async function writeSessionRecord(home: string, record: SessionRecord): Promise<string> {
  const json: RecordJson = {
    version: SESSION_RECORD_VERSION, sessionId: record.sessionId, apiUrl: record.apiUrl, runnerUrl: record.runnerUrl,
    chainId: record.chainId.toString(), contract: record.contract, user: record.user, stopped: record.stopped,
    calls: record.calls.map((c) => ({ seq: c.seq.toString(), input: bytesToHex(c.input), output: bytesToHex(c.output), writes: writesToJson(c.writes), receipt: receiptToJson(c.receipt) })),
    pending: record.pending === null ? null : { seq: record.pending.seq.toString(), input: bytesToHex(record.pending.input), callGasLimit: record.pending.callGasLimit.toString() },
  };
  const path = sessionRecordPath(home, record.sessionId);
  await mkdir(join(home, 'sessions'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return path;
}

/** The user's state after the record's last call. */
export const stateOf = (record: SessionRecord): SessionState => record.calls.at(-1)?.postState ?? SessionState.empty();
