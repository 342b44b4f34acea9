/**
 * The keystore password, from the first of: `--password-file`, ZGAS_PASSWORD (for scripts), or a
 * prompt on the terminal that does not echo what is typed. With no terminal and neither of the
 * others, the command stops with PasswordRequired rather than waiting on a pipe.
 */
import { readFile } from 'node:fs/promises';
import { ZgasError } from '../../contracts/errors.ts';

export interface PasswordSource {
  passwordFile?: string;
  /** ZGAS_PASSWORD, as read by services/config.ts. */
  envPassword?: string;
}

export async function readPassword(source: PasswordSource, opts: { prompt: string; confirm?: boolean }): Promise<string> {
  if (source.passwordFile !== undefined) {
    // The first line: files written by `echo` end in a newline that is not part of the password.
    return (await readFile(source.passwordFile, 'utf8')).split(/\r?\n/)[0] ?? '';
  }
  if (source.envPassword !== undefined) return source.envPassword;
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) throw new ZgasError('PasswordRequired');
  const password = await promptHidden(opts.prompt);
  if (opts.confirm === true && (await promptHidden('repeat the password: ')) !== password) {
    throw new ZgasError('WrongPassword', { reason: 'the two passwords differ' });
  }
  return password;
}

/** Reads one line from the terminal in raw mode, echoing nothing. Ctrl-C aborts. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let typed = '';
    const finish = (error: Error | null): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error === null) resolve(typed);
      else reject(error);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
