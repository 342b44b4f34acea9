import { ZgasError } from './errors.ts';
import { parseAddress, parseHash } from './hex.ts';
import type { Address, Hash } from './types.ts';
import { parseUint64 } from './units.ts';

/**
 * The sequencer's announcement that a session stops (`Abort` / `CloseSession`:
 * docs/contract.md §Methods; docs/protocol.md §Abort and close), as it travels from the contract
 * host over the event bus and Server-Sent Events to runners. One wire shape everywhere: integers as
 * decimal strings, the provider EIP-55.
 *
 * - `kind` 'abort': `stopCall` is true — the runner stops the running call at its next checkpoint
 *   and runs no new invocation.
 * - `kind` 'close': the runner runs no new invocation; a running call finishes.
 *
 * `closesAt` is when the session may be finalized (unix seconds): receipts sent after it may no
 * longer settle. `height` is the momentum that applied the call.
 */
export interface SessionStopEvent {
  type: typeof SESSION_STOP_EVENT;
  kind: 'abort' | 'close';
  sessionId: Hash;
  provider: Address;
  stopCall: boolean;
  /** Unix seconds, decimal. */
  closesAt: string;
  /** Momentum height, decimal. */
  height: string;
}

/** The event's `type` on the bus and its `event:` name on the SSE stream. */
export const SESSION_STOP_EVENT = 'sessionStop';

const KEYS = ['type', 'kind', 'sessionId', 'provider', 'stopCall', 'closesAt', 'height'] as const;

function bad(path: string, reason: string): never {
  throw new ZgasError('InvalidField', { path, reason });
}

function decimal(value: unknown, path: string): string {
  if (typeof value !== 'string') bad(path, 'expected a decimal string');
  try {
    return parseUint64(value).toString();
  } catch {
    return bad(path, 'expected a decimal string from 0 to 2^64-1');
  }
}

/** Strict parser of the wire form (exactly the listed fields); throws InvalidField naming the path. */
export function sessionStopEventFromJson(value: unknown): SessionStopEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('$', 'expected an object');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!(KEYS as readonly string[]).includes(key)) bad(key, 'unknown field');
  if (o.type !== SESSION_STOP_EVENT) bad('type', `expected "${SESSION_STOP_EVENT}"`);
  if (o.kind !== 'abort' && o.kind !== 'close') bad('kind', 'expected "abort" or "close"');
  if (typeof o.stopCall !== 'boolean') bad('stopCall', 'expected a boolean');
  let sessionId: Hash;
  let provider: Address;
  try {
    sessionId = parseHash(o.sessionId);
  } catch {
    return bad('sessionId', 'expected a 32-byte hash');
  }
  try {
    provider = parseAddress(o.provider);
  } catch {
    return bad('provider', 'expected an address');
  }
  return {
    type: SESSION_STOP_EVENT, kind: o.kind, sessionId, provider, stopCall: o.stopCall,
    closesAt: decimal(o.closesAt, 'closesAt'), height: decimal(o.height, 'height'),
  };
}

/** Builds the event from the session's fields after the momentum that stopped it. */
export function sessionStopEvent(fields: { kind: 'abort' | 'close'; sessionId: Hash; provider: Address; stopCall: boolean; closesAt: bigint; height: bigint }): SessionStopEvent {
  return {
    type: SESSION_STOP_EVENT, kind: fields.kind, sessionId: fields.sessionId, provider: parseAddress(fields.provider),
    stopCall: fields.stopCall, closesAt: fields.closesAt.toString(), height: fields.height.toString(),
  };
}
