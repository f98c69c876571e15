import {
  NoEligibleInstanceError,
  type Filter,
  type InstanceView,
  type Picker,
  type ScheduleRequest,
  type WeightedScorer,
} from './types.js';

/**
 * filters → weighted scorers → picker, over one view. Buffers are kept
 * between calls and grown with the view, so a pick allocates nothing.
 */
export class Scheduler<V extends InstanceView> {
  private eligible = new Uint8Array(0);
  private totals = new Float64Array(0);
  private scratch = new Float64Array(0);

  constructor(
    readonly phase: 'prefill' | 'decode',
    private readonly filters: readonly Filter<V>[],
    private readonly scorers: readonly WeightedScorer<V>[],
    private readonly picker: Picker,
  ) {
    for (const { scorer, weight } of scorers) {
      if (!(weight >= 0) || !Number.isFinite(weight)) throw new RangeError(`scorer ${scorer.name}: weight must be a finite number ≥ 0, got ${weight}`);
    }
  }

  /** Index of the chosen instance; NoEligibleInstanceError when none can take the request. */
  pick(view: V, request: ScheduleRequest, nowSeconds: number): number {
    const n = view.count;
    if (this.eligible.length < n) this.grow(n);
    const eligible = this.eligible;
    let any = false;
    for (let i = 0; i < n; i++) {
      const a = view.accepting[i] as number;
      eligible[i] = a;
      if (a) any = true;
    }
    if (!any) throw new NoEligibleInstanceError(this.phase, 'none-accepting');
    for (const filter of this.filters) {
      filter.apply(view, request, nowSeconds, eligible);
      if (!anySet(eligible, n)) throw new NoEligibleInstanceError(this.phase, 'filtered', filter.name);
    }
    const totals = this.totals;
    totals.fill(0, 0, n);
    for (const { scorer, weight } of this.scorers) {
      if (weight === 0) continue;
      const out = this.scratch;
      scorer.score(view, request, nowSeconds, eligible, out);
      for (let i = 0; i < n; i++) {
        if (!eligible[i]) continue;
        const s = out[i] as number;
        // Clamp: scores are promised in [0, 1]; NaN (a 0/0 somewhere) counts as the worst.
        totals[i] = (totals[i] as number) + weight * (s > 1 ? 1 : s >= 0 ? s : 0);
      }
    }
    return this.picker.pick(eligible, totals, n);
  }

  private grow(n: number): void {
    const size = Math.max(n, this.eligible.length * 2, 16);
    this.eligible = new Uint8Array(size);
    this.totals = new Float64Array(size);
    this.scratch = new Float64Array(size);
  }
}

function anySet(mask: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (mask[i]) return true;
  return false;
}
