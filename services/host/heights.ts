import { ZgasError } from '../../contracts/errors.ts';

interface Waiter {
  height: bigint;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** The newest momentum height an instance knows of, and the callers waiting for a height. */
export class Heights {
  private known: bigint | null = null;
  private readonly waiters = new Set<Waiter>();

  /** The newest height seen (null before genesis). */
  current(): bigint | null {
    return this.known;
  }

  /** Records a committed height (ours or another instance's) and releases those waiting for it. */
  observe(height: bigint): void {
    if (this.known === null || height > this.known) this.known = height;
    for (const w of [...this.waiters]) {
      if (height >= w.height) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Resolves once `height` is observed; rejects NotReady after `timeoutMs`, or when `closed`. */
  wait(height: bigint, timeoutMs?: number): Promise<void> {
    if (this.known !== null && this.known >= height) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { height, resolve, reject };
      this.waiters.add(waiter);
      if (timeoutMs === undefined) return;
      const timer = setTimeout(() => {
        if (this.waiters.delete(waiter)) reject(new ZgasError('NotReady', { reason: 'no momentum at this height yet', height: height.toString() }));
      }, timeoutMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Rejects every waiter (the host stopped). */
  close(): void {
    for (const w of [...this.waiters]) w.reject(new ZgasError('NotReady', { reason: 'the host stopped' }));
    this.waiters.clear();
  }
}
