/**
 * Values timestamped on a caller's clock, kept for the last `windowSeconds`.
 * Used for "requests in the last minute", "p90 TTFT over the last 30 s" and
 * the like. Time comes from the caller so the same code runs on the virtual
 * clock of the simulator.
 */
export class SlidingTimeWindow {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private head = 0;

  constructor(readonly windowSeconds: number) {
    if (!(windowSeconds > 0)) throw new RangeError(`windowSeconds must be positive, got ${windowSeconds}`);
  }

  /** Adds a value observed at `atSeconds` (non-decreasing across calls). */
  add(atSeconds: number, value: number): void {
    const last = this.times[this.times.length - 1];
    if (last !== undefined && atSeconds < last) throw new RangeError(`time went backwards: ${atSeconds} < ${last}`);
    this.times.push(atSeconds);
    this.values.push(value);
  }

  /** Drops values older than the window as of `nowSeconds` and returns those left, oldest first. */
  valuesAt(nowSeconds: number): number[] {
    this.evict(nowSeconds);
    return this.values.slice(this.head);
  }

  countAt(nowSeconds: number): number {
    this.evict(nowSeconds);
    return this.values.length - this.head;
  }

  sumAt(nowSeconds: number): number {
    this.evict(nowSeconds);
    let s = 0;
    for (let i = this.head; i < this.values.length; i++) s += this.values[i] as number;
    return s;
  }

  /** Events per second over the window as of `nowSeconds`. */
  rateAt(nowSeconds: number): number {
    return this.countAt(nowSeconds) / this.windowSeconds;
  }

  private evict(nowSeconds: number): void {
    const cutoff = nowSeconds - this.windowSeconds;
    while (this.head < this.times.length && (this.times[this.head] as number) <= cutoff) this.head++;
    // Compact now and then so memory stays bounded by the window, not by history.
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.values.splice(0, this.head);
      this.head = 0;
    }
  }
}

/**
 * Fixed-width bins aligned to an origin: "peak 1-minute rate uses fixed 60 s
 * bins from the first arrival" (DESIGN.md). Returns the count per bin.
 */
export function binCounts(timesSeconds: Iterable<number>, originSeconds: number, binSeconds: number): number[] {
  const counts: number[] = [];
  for (const t of timesSeconds) {
    const bin = Math.floor((t - originSeconds) / binSeconds);
    if (bin < 0) continue;
    while (counts.length <= bin) counts.push(0);
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}
