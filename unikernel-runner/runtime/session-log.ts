/**
 * The runner's durable session log (docs/protocol.md §Runner rules): every call's invocation, its
 * settlement receipt, output and state writes, written before the runner answers. A retry of a
 * logged invocation is answered from it, and after a restart a session continues from it.
 *
 * With a directory, each session is one append-only file `<dir>/sessions/<sessionId>.jsonl`, one
 * JSON entry per line, each line fsync'd before the call is answered. A line torn by a crash while
 * it was written belongs to a call that was never answered; it is cut off when the file is read.
 * Without a directory the log is held in memory and a restart loses it. Both are bounded per
 * session and in total: past a bound a session runs no new call (SessionLogFull). The logs of
 * sessions closed on the ledger are removed (the runner's pruning), which frees the total.
 */
import { mkdir, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { ZgasError } from '../../contracts/errors.ts';
import { invocationFromJson, invocationToJson, receiptFromJson, receiptToJson, writesFromJson, writesToJson } from '../../contracts/json.ts';
import type { Hash, Hex, SettlementReceipt, SignedInvocation, StateWrite } from '../../contracts/types.ts';
import { parseHex } from '../../contracts/hex.ts';

/** Default bound of one session's log. */
export const DEFAULT_MAX_SESSION_LOG_BYTES = 64 * 1024 * 1024;
/** Default bound of all sessions' logs together (in memory: of the whole in-memory log). */
export const DEFAULT_MAX_LOG_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_MAX_MEMORY_LOG_BYTES = 256 * 1024 * 1024;

/** One call as logged: what the runner answered, and what rebuilds the session's state. */
export interface LoggedCall {
  invocation: SignedInvocation;
  receipt: SettlementReceipt;
  output: Hex;
  writes: StateWrite[];
}

/** A session as read back from its log. */
export type LoggedSession =
  | { kind: 'none' }
  | { kind: 'lost' }
  | { kind: 'calls'; calls: LoggedCall[]; aborted: boolean };

export interface SessionLogLimits {
  maxSessionBytes: number;
  maxTotalBytes: number;
}

export interface SessionLog {
  /** Where the log lives, for the start-up message. */
  readonly where: string;
  read(sessionId: Hash): Promise<LoggedSession>;
  /** Appends one call durably; refuses with SessionLogFull when a bound is already reached. */
  append(sessionId: Hash, call: LoggedCall): Promise<void>;
  /** Records that the session was aborted: no new call runs, even after a restart. */
  markAborted(sessionId: Hash): Promise<void>;
  /** Records that the session's log was lost: it is refused for good. */
  markLost(sessionId: Hash): Promise<void>;
  /** Whether a call of `bytes` more may be logged for the session. */
  hasRoom(sessionId: Hash, bytes: number): boolean;
  /** Every session the log holds. */
  sessionIds(): Hash[];
  /** Forgets a session (once it is closed on the ledger, no receipt of it settles any more). */
  remove(sessionId: Hash): Promise<void>;
}

type Line = { call: LoggedCall } | { aborted: true } | { lost: true };

function encodeLine(line: Line): string {
  if ('call' in line) {
    const { invocation, receipt, output, writes } = line.call;
    return `${JSON.stringify({ invocation: invocationToJson(invocation), receipt: receiptToJson(receipt), output, writes: writesToJson(writes) })}\n`;
  }
  return `${JSON.stringify(line)}\n`;
}

function decodeLine(text: string): Line {
  const value = JSON.parse(text) as Record<string, unknown>;
  if (value['lost'] === true) return { lost: true };
  if (value['aborted'] === true) return { aborted: true };
  return {
    call: {
      invocation: invocationFromJson(value['invocation'], 'invocation'),
      receipt: receiptFromJson(value['receipt'], 'receipt'),
      output: parseHex(value['output']),
      writes: writesFromJson(value['writes']),
    },
  };
}

function fold(lines: readonly Line[]): LoggedSession {
  if (lines.length === 0) return { kind: 'none' };
  const calls: LoggedCall[] = [];
  let aborted = false;
  for (const line of lines) {
    if ('lost' in line) return { kind: 'lost' };
    if ('aborted' in line) aborted = true;
    else calls.push(line.call);
  }
  return { kind: 'calls', calls, aborted };
}

const full = (sessionId: Hash, what: string, maxBytes: number) => new ZgasError('SessionLogFull', { sessionId, what, maxBytes });

/** The log in memory: a restart loses it. */
export class MemorySessionLog implements SessionLog {
  readonly where = 'memory (lost on restart)';
  private readonly sessions = new Map<Hash, { lines: Line[]; bytes: number }>();
  private total = 0;

  constructor(private readonly limits: SessionLogLimits = { maxSessionBytes: DEFAULT_MAX_SESSION_LOG_BYTES, maxTotalBytes: DEFAULT_MAX_MEMORY_LOG_BYTES }) {}

  async read(sessionId: Hash): Promise<LoggedSession> {
    return fold(this.sessions.get(sessionId)?.lines ?? []);
  }

  async append(sessionId: Hash, call: LoggedCall): Promise<void> {
    this.add(sessionId, { call }, true);
  }

  async markAborted(sessionId: Hash): Promise<void> {
    this.add(sessionId, { aborted: true }, false);
  }

  async markLost(sessionId: Hash): Promise<void> {
    this.add(sessionId, { lost: true }, false);
  }

  hasRoom(sessionId: Hash, bytes: number): boolean {
    const used = this.sessions.get(sessionId)?.bytes ?? 0;
    return used + bytes <= this.limits.maxSessionBytes && this.total + bytes <= this.limits.maxTotalBytes;
  }

  sessionIds(): Hash[] {
    return [...this.sessions.keys()];
  }

  async remove(sessionId: Hash): Promise<void> {
    this.total -= this.sessions.get(sessionId)?.bytes ?? 0;
    this.sessions.delete(sessionId);
  }

  private add(sessionId: Hash, line: Line, bounded: boolean): void {
    const bytes = encodeLine(line).length;
    if (bounded && !this.hasRoom(sessionId, bytes)) throw full(sessionId, 'in-memory session log', this.limits.maxSessionBytes);
    let entry = this.sessions.get(sessionId);
    if (entry === undefined) {
      entry = { lines: [], bytes: 0 };
      this.sessions.set(sessionId, entry);
    }
    entry.lines.push(line);
    entry.bytes += bytes;
    this.total += bytes;
  }
}

/** The log on disk: one append-only, fsync'd file per session. */
export class FileSessionLog implements SessionLog {
  readonly where: string;
  private readonly dir: string;
  private readonly sizes = new Map<Hash, number>();
  private total = 0;

  private constructor(
    root: string,
    private readonly limits: SessionLogLimits,
  ) {
    this.dir = path.join(root, 'sessions');
    this.where = this.dir;
  }

  /** Opens (creating) the log directory and sizes what it already holds. */
  static async open(root: string, limits: SessionLogLimits = { maxSessionBytes: DEFAULT_MAX_SESSION_LOG_BYTES, maxTotalBytes: DEFAULT_MAX_LOG_BYTES }): Promise<FileSessionLog> {
    const log = new FileSessionLog(root, limits);
    await mkdir(log.dir, { recursive: true });
    for (const name of await readdir(log.dir)) {
      const match = /^(0x[0-9a-f]{64})\.jsonl$/.exec(name);
      if (match === null) continue;
      const { size } = await stat(path.join(log.dir, name));
      log.sizes.set(match[1] as Hash, size);
      log.total += size;
    }
    return log;
  }

  async read(sessionId: Hash): Promise<LoggedSession> {
    const file = this.file(sessionId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
      throw error;
    }
    const lines: Line[] = [];
    let offset = 0;
    while (offset < text.length) {
      const end = text.indexOf('\n', offset);
      if (end < 0) {
        // A line without its newline was being written when the process stopped: never answered.
        await truncate(file, Buffer.byteLength(text.slice(0, offset)));
        this.resize(sessionId, Buffer.byteLength(text.slice(0, offset)));
        break;
      }
      try {
        lines.push(decodeLine(text.slice(offset, end)));
      } catch {
        // A complete line that does not decode: the log was damaged, so the session's state is lost.
        return { kind: 'lost' };
      }
      offset = end + 1;
    }
    return fold(lines);
  }

  async append(sessionId: Hash, call: LoggedCall): Promise<void> {
    const text = encodeLine({ call });
    if (!this.hasRoom(sessionId, Buffer.byteLength(text))) throw full(sessionId, 'session log', this.limits.maxSessionBytes);
    await this.write(sessionId, text);
  }

  async markAborted(sessionId: Hash): Promise<void> {
    await this.write(sessionId, encodeLine({ aborted: true }));
  }

  async markLost(sessionId: Hash): Promise<void> {
    await this.write(sessionId, encodeLine({ lost: true }));
  }

  hasRoom(sessionId: Hash, bytes: number): boolean {
    const used = this.sizes.get(sessionId) ?? 0;
    return used + bytes <= this.limits.maxSessionBytes && this.total + bytes <= this.limits.maxTotalBytes;
  }

  sessionIds(): Hash[] {
    return [...this.sizes.keys()];
  }

  async remove(sessionId: Hash): Promise<void> {
    await rm(this.file(sessionId), { force: true });
    this.total -= this.sizes.get(sessionId) ?? 0;
    this.sizes.delete(sessionId);
  }

  private file(sessionId: Hash): string {
    return path.join(this.dir, `${sessionId.toLowerCase()}.jsonl`);
  }

  private resize(sessionId: Hash, size: number): void {
    this.total += size - (this.sizes.get(sessionId) ?? 0);
    this.sizes.set(sessionId, size);
  }

  /** Appends and fsyncs; a new file's directory entry is fsync'd too, so the file survives a crash. */
  private async write(sessionId: Hash, text: string): Promise<void> {
    const created = !this.sizes.has(sessionId);
    const handle = await open(this.file(sessionId), 'a');
    try {
      await handle.write(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    if (created) {
      const dir = await open(this.dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
    this.resize(sessionId, (this.sizes.get(sessionId) ?? 0) + Buffer.byteLength(text));
  }
}
