import type { PrefillView, ScheduleRequest, Scorer } from './types.js';

/**
 * Plain shortest queue, by request count (queued plus in the running batch),
 * blind to prompt lengths: kept to compare the length-aware rule against,
 * and what DistServe's simulator does (new requests go to the prefill
 * instance with the fewest requests). Score (min + 1) / (own + 1): 1 for
 * the shortest queue. Parameters: none.
 */
export const shortestQueueScorer = {
  name: 'shortest-queue',
  score(view: PrefillView, _request: ScheduleRequest, _nowSeconds: number, eligible: Uint8Array, out: Float64Array): void {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < view.count; i++) {
      if (!eligible[i]) continue;
      const q = (view.queuedRequests[i] as number) + (view.runningRequests[i] as number);
      out[i] = q;
      if (q < best) best = q;
    }
    for (let i = 0; i < view.count; i++) if (eligible[i]) out[i] = (best + 1) / ((out[i] as number) + 1);
  },
} satisfies Scorer<PrefillView>;
