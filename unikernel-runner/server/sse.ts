/** A minimal Server-Sent Events reader over a fetch body: yields `{ event, data }` per message. */

/** A message longer than this is dropped (a guard against a runaway stream). */
export const MAX_SSE_MESSAGE_BYTES = 1024 * 1024;

export interface SseMessage {
  event: string;
  data: string;
}

export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0 && size <= MAX_SSE_MESSAGE_BYTES) yield { event, data: data.join('\n') };
        event = 'message';
        data = [];
        size = 0;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'event') event = value;
      else if (name === 'data') {
        size += value.length;
        if (size <= MAX_SSE_MESSAGE_BYTES) data.push(value);
      }
    }
    if (buffer.length > MAX_SSE_MESSAGE_BYTES) buffer = '';
  }
}
