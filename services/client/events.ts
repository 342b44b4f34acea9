/**
 * `GET /v1/events` as an async iterable: Server-Sent Events parsed from the response stream
 * (fetch, so it works in browsers and Node alike). Comment lines (heartbeats) are skipped; the
 * iteration ends when the signal aborts or the server closes the stream.
 */
import { ZgasError } from '../../contracts/errors.ts';
import { remoteError } from './http.ts';
import type { ServerEvent } from './views.ts';

/** One event's data at most this long: a subscriber never buffers without bound. */
export const MAX_EVENT_BYTES = 1024 * 1024;

export async function* readEvents(url: string, signal?: AbortSignal): AsyncGenerator<ServerEvent> {
  const response = await fetch(url, { headers: { accept: 'text/event-stream' }, ...(signal === undefined ? {} : { signal }) });
  if (!response.ok || response.body === null) throw remoteError(response.status, await response.text().catch(() => ''), url);
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      if (buffer.length > MAX_EVENT_BYTES) throw new ZgasError('LimitExceeded', { what: 'event bytes', max: MAX_EVENT_BYTES });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event !== null) yield event;
      }
    }
  } catch (error) {
    if (signal?.aborted === true) return;
    throw error;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** One SSE block: `event:` names it (default "message"), `data:` lines join with newlines; comments are ignored. */
export function parseBlock(block: string): ServerEvent | null {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'event') type = value;
    else if (name === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { text };
  }
  return { type, data: typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : { value: parsed } };
}
