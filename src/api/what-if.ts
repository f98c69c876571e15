import type { TraceRequest } from '../domain/request.js';
import type { Slo } from '../domain/slo.js';
import type { Profile } from '../perf/profile.js';
import type { Policy } from '../policy/policy.js';
import { simJson, type SimJson } from '../sim/bench.js';
import { runPolicy } from '../sim/run-policy.js';
import type { LoadHistoryRecord } from '../store/store.js';

/**
 * Requests rebuilt from per-interval history. The store keeps, per interval,
 * the arrival count and the moments of the lengths, not the requests, so
 * the replay synthesises them deterministically:
 * - arrivals: `round(requests)` spread evenly over the interval (at the
 *   middle of equal slots), so each interval's rate is the recorded one;
 * - prompt lengths: the two-point distribution m ± σ (σ² = E[l²] − m²),
 *   alternating, which has the recorded mean and second moment exactly for
 *   an even count (the convex prefill cost a + b·l + c·l² depends on no more);
 * - output lengths: the recorded mean, rounded; every length at least 1 token.
 * Arrival order within an interval is therefore regular, not bursty: the
 * what-if compares policies on the recorded load shape, not on its jitter.
 */
export function synthesiseRequests(history: readonly LoadHistoryRecord[]): TraceRequest[] {
  const first = history[0];
  if (!first) return [];
  const originMs = Date.parse(first.startIso);
  const requests: TraceRequest[] = [];
  for (const record of history) {
    const n = Math.round(record.load.requests);
    if (n === 0) continue;
    const startSeconds = (Date.parse(record.startIso) - originMs) / 1000;
    const { inputMean, inputSecondMoment, outputMean, intervalSeconds } = record.load;
    const sigma = Math.sqrt(Math.max(0, inputSecondMoment - inputMean * inputMean));
    for (let k = 0; k < n; k++) {
      const input = k % 2 === 0 ? inputMean + sigma : inputMean - sigma;
      requests.push({
        arrivalSeconds: startSeconds + ((k + 0.5) * intervalSeconds) / n,
        inputTokens: Math.max(1, Math.round(input)),
        outputTokens: Math.max(1, Math.round(outputMean)),
      });
    }
  }
  return requests;
}

export interface WhatIfInput {
  history: readonly LoadHistoryRecord[];
  policy: Policy;
  profile: Profile;
  slo: Slo;
  gpus: number;
  intervalSeconds: number;
}

export interface WhatIfResult extends SimJson {
  requests: number;
  intervals: number;
  spanSeconds: number;
}

/** Replays the history under `policy` in the simulator (src/sim) and returns `pdpilot sim --json`'s summary. */
export async function whatIf(input: WhatIfInput): Promise<WhatIfResult> {
  const trace = synthesiseRequests(input.history);
  const result = await runPolicy({ trace, profile: input.profile, policy: input.policy, slo: input.slo, options: { gpus: input.gpus, intervalSeconds: input.intervalSeconds } });
  const last = trace.at(-1);
  return { ...simJson(result), requests: trace.length, intervals: input.history.length, spanSeconds: last ? last.arrivalSeconds : 0 };
}
