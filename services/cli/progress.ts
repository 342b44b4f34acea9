/**
 * Progress of long work on stderr (stdout stays the command's answer, so `--json` output pipes
 * cleanly): on a terminal one line rewritten in place with the time elapsed; elsewhere a line when
 * the work ends and one every few seconds while it waits, so logs stay short.
 */
export interface Progress {
  /** Replaces the detail shown after the label. */
  update(detail: string): void;
  /** Ends the display with a last word ("done", "failed: …"). */
  done(final?: string): void;
}

const FRAME_MS = 250;
const LOG_EVERY_MS = 10_000;

export function startProgress(label: string, opts: { stream?: NodeJS.WriteStream; quiet?: boolean } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet === true) return { update: () => undefined, done: () => undefined };
  const started = Date.now();
  let detail = '';
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (stream.isTTY !== true) {
    // In a log: one line at the end, and a line every LOG_EVERY_MS while a long wait goes on.
    let lastLogMs = started;
    return {
      update: (d) => {
        detail = d;
        if (Date.now() - lastLogMs < LOG_EVERY_MS) return;
        lastLogMs = Date.now();
        stream.write(`${label} … ${elapsed()} · ${detail}\n`);
      },
      done: (final = 'done') => {
        stream.write(`${label}: ${final} after ${elapsed()}\n`);
      },
    };
  }
  const draw = (): void => {
    stream.write(`\r\u001b[2K${label} … ${elapsed()}${detail === '' ? '' : ` · ${detail}`}`);
  };
  draw();
  const timer = setInterval(draw, FRAME_MS);
  timer.unref();
  return {
    update: (d) => {
      detail = d;
      draw();
    },
    done: (final = 'done') => {
      clearInterval(timer);
      stream.write(`\r\u001b[2K${label}: ${final} after ${elapsed()}\n`);
    },
  };
}

/** Runs `work` with a progress display that ends "done", or "failed" when it throws. */
export async function withProgress<T>(label: string, work: (p: Progress) => Promise<T>, opts: { quiet?: boolean } = {}): Promise<T> {
  const progress = startProgress(label, opts);
  try {
    const value = await work(progress);
    progress.done();
    return value;
  } catch (error) {
    progress.done('failed');
    throw error;
  }
}
