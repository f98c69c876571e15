import type { LatencyCoefficients } from '../../perf/profile.js';
import { ownPrefillSeconds, prefillWaitSeconds } from './prefill-wait.js';
import type { PrefillView, ScheduleRequest, Scorer } from './types.js';

export interface EstimatedFinishParams {
  /** Prefill fit [a, b, c] in ms of the instances (profile.prefillMs). */
  prefillMs: LatencyCoefficients;
  /** Largest batch in prompt tokens the instances form (L_m); prices the per-batch term. */
  tokenBudget: number;
}

/**
 * Length-aware prefill scorer: estimated time at which this prompt's prefill
 * would finish on each instance (wait for the queue ahead, priced by the
 * convex cost, plus the prompt's own cost), scored best / own so the fastest
 * instance gets 1 and one twice as slow gets 0.5. Unlike a request count it
 * sees that three 6,000-token prompts are a longer queue than ten 200-token
 * ones.
 */
export class EstimatedFinishScorer implements Scorer<PrefillView> {
  readonly name = 'estimated-finish';

  constructor(private readonly params: EstimatedFinishParams) {}

  score(view: PrefillView, request: ScheduleRequest, nowSeconds: number, eligible: Uint8Array, out: Float64Array): void {
    const own = ownPrefillSeconds(request.promptTokens, this.params.prefillMs);
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < view.count; i++) {
      if (!eligible[i]) continue;
      const finish = prefillWaitSeconds(view, i, nowSeconds, this.params.prefillMs, this.params.tokenBudget) + own;
      out[i] = finish;
      if (finish < best) best = finish;
    }
    for (let i = 0; i < view.count; i++) {
      if (!eligible[i]) continue;
      const finish = out[i] as number;
      out[i] = finish > 0 ? best / finish : 1;
    }
  }
}
