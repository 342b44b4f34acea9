/** Sleeps that end early on wake() (stop) or when a signal aborts (lost lead). */
export class Waker {
  private readonly wakers = new Set<() => void>();

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  wake(): void {
    for (const w of [...this.wakers]) w();
  }
}
