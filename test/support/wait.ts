/** How long a test waits for a condition by default: generous, so a loaded machine only makes it slower. */
export const WAIT_BOUND_MS = 60_000;

/**
 * Polls `probe` until it returns a value other than undefined, up to `timeoutMs`; a probe that
 * throws counts as not yet. Tests wait for conditions this way, never for a fixed time.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_BOUND_MS, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail().slice(-6000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until `predicate` holds, up to `timeoutMs`. */
export async function untilTrue(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = WAIT_BOUND_MS): Promise<void> {
  await until(what, async () => ((await predicate()) ? true : undefined), timeoutMs);
}
