// The live router's two schedulers, assembled from the shared plugins of
// router/scheduler/ (the ones the simulator runs) with the weights of the
// config's router.scorers section. Nothing here decides anything itself.
import type { LatencyCoefficients } from '../perf/profile.js';
import { batchLoadScorer } from './scheduler/batch-load-scorer.js';
import { EstimatedFinishScorer } from './scheduler/estimated-finish-scorer.js';
import { freeKvScorer } from './scheduler/free-kv-scorer.js';
import { maxScorePicker } from './scheduler/max-score-picker.js';
import { Scheduler } from './scheduler/scheduler.js';
import { DEFAULT_SHORT_LANE, ShortLaneFilter } from './scheduler/short-lane-filter.js';
import { shortestQueueScorer } from './scheduler/shortest-queue-scorer.js';
import type { DecodeView, PrefillView } from './scheduler/types.js';

export interface ScorerWeights {
  /** Prefill: estimated finish time (length-aware). */
  lengthAware: number;
  /** Prefill: plain shortest queue. */
  queue: number;
  /** Decode: free KV. */
  kv: number;
  /** Decode: small batch. */
  batch: number;
}

export interface RouterSchedulers {
  prefill: Scheduler<PrefillView>;
  decode: Scheduler<DecodeView>;
}

export function buildSchedulers(weights: ScorerWeights, prefillMs: LatencyCoefficients, tokenBudget: number): RouterSchedulers {
  const costs = { prefillMs, tokenBudget };
  // The short lane belongs to length-aware routing; with that weight at 0 the operator asked for length-blind routing.
  const filters = weights.lengthAware > 0 ? [new ShortLaneFilter({ ...DEFAULT_SHORT_LANE, ...costs })] : [];
  return {
    prefill: new Scheduler<PrefillView>(
      'prefill',
      filters,
      [
        { scorer: new EstimatedFinishScorer(costs), weight: weights.lengthAware },
        { scorer: shortestQueueScorer, weight: weights.queue },
      ],
      maxScorePicker,
    ),
    decode: new Scheduler<DecodeView>(
      'decode',
      [],
      [
        { scorer: freeKvScorer, weight: weights.kv },
        { scorer: batchLoadScorer, weight: weights.batch },
      ],
      maxScorePicker,
    ),
  };
}
