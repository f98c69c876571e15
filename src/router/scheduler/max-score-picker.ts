import type { Picker } from './types.js';

/**
 * Picks the eligible candidate with the highest total score. Ties go to the
 * lowest index, so a run is deterministic; with load-sensitive scorers the
 * next request sees the load the previous one added, so ties do not pile up.
 * Parameters: none.
 */
export const maxScorePicker = {
  name: 'max-score',
  pick(eligible: Uint8Array, totals: Float64Array, count: number): number {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      if (!eligible[i]) continue;
      const s = totals[i] as number;
      if (s > bestScore) {
        best = i;
        bestScore = s;
      }
    }
    return best;
  },
} satisfies Picker;
