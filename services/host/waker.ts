/**
 * The sequencer's sleeps. Every sleep ends early on wake() (stop) or when its signal aborts (lost
 * lead); a sleep `untilInputs` also ends when inputs for a momentum were committed since the last
 * clearInputs() (the store's notice, or one that arrives while it sleeps).
 */
export class Waker {
  private readonly wakers = new Set<() => void>();
  private readonly inputWaiters = new Set<() => void>();
  private inputsPending = false;

  sleep(ms: number, signal?: AbortSignal, opts: { untilInputs?: boolean } = {}): Promise<void> {
    const untilInputs = opts.untilInputs === true;
    if (untilInputs && this.inputsPending) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        this.inputWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
      if (untilInputs) this.inputWaiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Inputs for a momentum were committed: ends a sleep `untilInputs` now, or the next one at once. */
  inputsArrived(): void {
    this.inputsPending = true;
    for (const w of [...this.inputWaiters]) w();
  }

  /** A round is about to load what is waiting: notices until now are answered by it. */
  clearInputs(): void {
    this.inputsPending = false;
  }
}
