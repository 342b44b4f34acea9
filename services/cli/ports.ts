import { createServer } from 'node:net';
import { ConfigError } from '../config.ts';

/** A port a process is about to listen on, and the setting that chose it. */
export interface PortNeed {
  host: string;
  port: number;
  /** The environment variable that set it, named in the error. */
  variable: string;
  /** The command-line flag that sets it too, if any. */
  flag?: string;
}

function canListen(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/**
 * Checks every port is free before any setup, so a busy port is reported at once rather than after
 * the store, the migrations and the host have started. Port 0 (any free port) always passes.
 */
export async function assertPortsFree(needs: readonly PortNeed[]): Promise<void> {
  for (const need of needs) {
    if (need.port === 0) continue;
    const err = await canListen(need.host, need.port);
    if (err === null) continue;
    const how = need.flag === undefined ? need.variable : `${need.flag} or ${need.variable}`;
    if (err.code === 'EADDRINUSE') {
      throw new ConfigError(need.variable, `port ${need.port} on ${need.host} is in use by another process; stop it, or choose another port with ${how}`);
    }
    if (err.code === 'EACCES') throw new ConfigError(need.variable, `port ${need.port} on ${need.host} needs privileges; choose a port above 1023 with ${how}`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new ConfigError(need.variable.replace(/PORT$/, 'HOST'), `${need.host} is not an address of this machine; listen on 127.0.0.1, 0.0.0.0 or one of its addresses`);
    throw new ConfigError(need.variable, `cannot listen on ${need.host}:${need.port} (${err.code ?? err.message})`);
  }
}
