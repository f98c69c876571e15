import type { LatencyCoefficients } from '../../perf/profile.js';
import { prefillWaitSeconds } from './prefill-wait.js';
import type { Filter, PrefillView, ScheduleRequest } from './types.js';

export interface ShortLaneParams {
  /** Prompts longer than this many tokens are "long". Default 2,048 (about the p90 of chat prompts). */
  longPromptTokens: number;
  /** Share of the accepting prefill instances kept as the short-prompt lane (at least one when there are two or more). Default 0.25. */
  laneFraction: number;
  /**
   * Aging bound: a long prompt may use a lane instance once every non-lane
   * instance would make it wait longer than this, so long prompts are never
   * held back indefinitely. Default 2 s.
   */
  maxLongWaitSeconds: number;
  prefillMs: LatencyCoefficients;
  tokenBudget: number;
}

export const DEFAULT_SHORT_LANE = { longPromptTokens: 2048, laneFraction: 0.25, maxLongWaitSeconds: 2 } as const;

/**
 * DOPD's mixed-length idea as a filter (docs/router.md): the first
 * ⌈laneFraction·P⌉ accepting prefill instances (by index) form a lane that
 * long prompts may not enter, so a burst of long prompts cannot put every
 * short prompt behind seconds of other people's prefill. Short prompts may
 * go anywhere. Aging keeps long prompts from starving in turn: when every
 * non-lane instance's estimated wait exceeds `maxLongWaitSeconds`, the lane
 * opens to them. With fewer than two accepting instances it does nothing.
 */
export class ShortLaneFilter implements Filter<PrefillView> {
  readonly name = 'short-lane';

  constructor(private readonly params: ShortLaneParams) {}

  apply(view: PrefillView, request: ScheduleRequest, nowSeconds: number, eligible: Uint8Array): void {
    if (request.promptTokens <= this.params.longPromptTokens) return;
    let accepting = 0;
    for (let i = 0; i < view.count; i++) if (view.accepting[i]) accepting++;
    if (accepting < 2) return;
    const laneSize = Math.min(accepting - 1, Math.max(1, Math.ceil(this.params.laneFraction * accepting)));
    // Aging: if no non-lane instance can start this prompt within the bound, leave the lane open.
    let seen = 0;
    let outsideOk = false;
    for (let i = 0; i < view.count; i++) {
      if (!view.accepting[i]) continue;
      if (seen++ < laneSize) continue;
      if (eligible[i] && prefillWaitSeconds(view, i, nowSeconds, this.params.prefillMs, this.params.tokenBudget) <= this.params.maxLongWaitSeconds) {
        outsideOk = true;
        break;
      }
    }
    if (!outsideOk) return;
    seen = 0;
    for (let i = 0; i < view.count && seen < laneSize; i++) {
      if (!view.accepting[i]) continue;
      eligible[i] = 0;
      seen++;
    }
  }
}
