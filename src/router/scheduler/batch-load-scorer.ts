import type { DecodeView, ScheduleRequest, Scorer } from './types.js';

/**
 * Decode choice by batch load: requests running or waiting to join, scored
 * (min + 1) / (own + 1), 1 for the least loaded. A smaller batch steps
 * faster, so the request's TPOT is lower. Parameters: none.
 */
export const batchLoadScorer = {
  name: 'batch-load',
  score(view: DecodeView, _request: ScheduleRequest, _nowSeconds: number, eligible: Uint8Array, out: Float64Array): void {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < view.count; i++) {
      if (!eligible[i]) continue;
      const load = view.loadRequests[i] as number;
      out[i] = load;
      if (load < best) best = load;
    }
    for (let i = 0; i < view.count; i++) if (eligible[i]) out[i] = (best + 1) / ((out[i] as number) + 1);
  },
} satisfies Scorer<DecodeView>;
