/**
 * What this API process last knew of each submitter's unverified copies, from above: the count the
 * store made at a POST, plus what this process stored since. Counting costs the store a visit to
 * every waiting copy, so a POST whose estimate stays well within the bound skips it (see
 * insertReceipts). Verification only lowers the real figure; what another API process stores in
 * the meantime is not seen, which is why an estimate is trusted for ESTIMATE_TTL_MS only and only
 * up to half the bound.
 */
export interface IntakeEstimate {
  copies: number;
  bytes: number;
}

/** How long after the store counted a submitter's copies the count (plus later inserts) is used. */
export const ESTIMATE_TTL_MS = 1_000;
/** Submitters tracked at once; the least recently counted is dropped past it (it is counted again). */
export const MAX_TRACKED_SUBMITTERS = 10_000;

interface Entry extends IntakeEstimate {
  countedAtMs: number;
}

export class IntakeEstimates {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = ESTIMATE_TTL_MS,
    private readonly maxSubmitters = MAX_TRACKED_SUBMITTERS,
  ) {}

  /** The estimate for `submitter` at `nowMs`, or undefined when there is none this recent. */
  get(submitter: string, nowMs: number): IntakeEstimate | undefined {
    const e = this.entries.get(submitter);
    if (e === undefined) return undefined;
    if (nowMs - e.countedAtMs > this.ttlMs) {
      this.entries.delete(submitter);
      return undefined;
    }
    return { copies: e.copies, bytes: e.bytes };
  }

  /**
   * Records a POST's outcome: a count (the copies before the POST) starts a new estimate with what
   * the POST added; without one, what it added is added to the estimate (which keeps its counting
   * time), so POSTs running side by side each add their own.
   */
  record(submitter: string, intake: { counted: IntakeEstimate | null; added: IntakeEstimate }, nowMs: number): void {
    const { counted, added } = intake;
    if (counted !== null) {
      this.entries.delete(submitter); // re-inserted last: the map's order is the counting order
      this.entries.set(submitter, { copies: counted.copies + added.copies, bytes: counted.bytes + added.bytes, countedAtMs: nowMs });
      if (this.entries.size > this.maxSubmitters) this.entries.delete(this.entries.keys().next().value!);
      return;
    }
    const e = this.entries.get(submitter);
    if (e === undefined) return;
    e.copies += added.copies;
    e.bytes += added.bytes;
  }

  get size(): number {
    return this.entries.size;
  }
}
