/**
 * Load seen over one controller interval: the sample the forecaster learns
 * from and the store keeps as history. Moments rather than means alone,
 * because prefill cost is convex in prompt length (a + b·l + c·l²), so two
 * intervals with the same mean prompt can cost very different amounts.
 *
 * An interval with no arrivals is "idle": requests = 0 and every length
 * statistic 0, never NaN (the 0/0 pitfall Dynamo's planner users hit).
 */
export interface LoadSample {
  /** Start of the interval, seconds on the controller's clock. */
  startSeconds: number;
  intervalSeconds: number;
  /** Arrivals in the interval. */
  requests: number;
  /** Mean prompt length in tokens (0 when idle). */
  inputMean: number;
  /** Mean of the squared prompt length, tokens² (0 when idle). */
  inputSecondMoment: number;
  /** Mean output length in tokens (0 when idle). */
  outputMean: number;
}

export function idleSample(startSeconds: number, intervalSeconds: number): LoadSample {
  return { startSeconds, intervalSeconds, requests: 0, inputMean: 0, inputSecondMoment: 0, outputMean: 0 };
}

/** Builds a sample from the requests that arrived in one interval; an empty list gives an idle sample. */
export function sampleFromRequests(
  startSeconds: number,
  intervalSeconds: number,
  requests: readonly { inputTokens: number; outputTokens: number }[],
): LoadSample {
  const n = requests.length;
  if (n === 0) return idleSample(startSeconds, intervalSeconds);
  let input = 0;
  let input2 = 0;
  let output = 0;
  for (const r of requests) {
    input += r.inputTokens;
    input2 += r.inputTokens * r.inputTokens;
    output += r.outputTokens;
  }
  return { startSeconds, intervalSeconds, requests: n, inputMean: input / n, inputSecondMoment: input2 / n, outputMean: output / n };
}

/**
 * One sample for consecutive samples taken together: requests add up and
 * length figures pool with request counts as weights; all idle reads idle.
 * The load a forecast for a multi-interval horizon is compared against.
 */
export function poolSamples(samples: readonly LoadSample[]): LoadSample {
  const first = samples[0];
  if (!first) throw new RangeError('poolSamples needs at least one sample');
  let intervalSeconds = 0;
  let requests = 0;
  let input = 0;
  let input2 = 0;
  let output = 0;
  for (const s of samples) {
    intervalSeconds += s.intervalSeconds;
    requests += s.requests;
    input += s.requests * s.inputMean;
    input2 += s.requests * s.inputSecondMoment;
    output += s.requests * s.outputMean;
  }
  if (requests === 0) return idleSample(first.startSeconds, intervalSeconds);
  return { startSeconds: first.startSeconds, intervalSeconds, requests, inputMean: input / requests, inputSecondMoment: input2 / requests, outputMean: output / requests };
}
