import type { DecodeView, ScheduleRequest, Scorer } from './types.js';

/**
 * Decode choice by memory: the fraction of the instance's KV capacity still
 * free after what is reserved and promised, in [0, 1] (0 when full or
 * oversubscribed). More free KV means the request is pulled sooner and the
 * batch has room to grow. Parameters: none.
 */
export const freeKvScorer = {
  name: 'free-kv',
  score(view: DecodeView, _request: ScheduleRequest, _nowSeconds: number, eligible: Uint8Array, out: Float64Array): void {
    for (let i = 0; i < view.count; i++) {
      if (!eligible[i]) continue;
      const capacity = view.kvCapacityTokens[i] as number;
      out[i] = capacity > 0 ? Math.max(0, view.freeKvTokens[i] as number) / capacity : 0;
    }
  },
} satisfies Scorer<DecodeView>;
