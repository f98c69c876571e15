import { sampleFromRequests, type LoadSample } from '../domain/load.js';
import type { RequestOutcome } from '../domain/request.js';
import type { Slo } from '../domain/slo.js';
import { meetsSlo, percentile } from '../lib/stats.js';

/**
 * The load of one finished controller interval, as the front door measured
 * it: the sample the forecaster learns from, plus the latency figures the
 * store keeps beside it. Latency figures are absent when no request finished
 * in the interval (never 0, which would read as "fast").
 */
export interface IntervalLoad {
  load: LoadSample;
  ttftP90Seconds?: number;
  tpotP90Seconds?: number;
  /** Fraction (0–1) of the interval's finished requests that met both SLOs. */
  attainment?: number;
}

/** Where the live observer gets each interval's load. */
export interface LoadSource {
  /** Closes the interval that ends at `nowSeconds` and starts the next. */
  takeInterval(nowSeconds: number): IntervalLoad;
}

/**
 * Counts arrivals and outcomes between two `takeInterval` calls. The router
 * reports each request twice: at admission (`recordArrival`, with the
 * prompt length and the output length it asked for — the figure the policy
 * sizes decode for) and when it finishes (`recordOutcome`). Clock-free: the
 * interval bounds are the times the caller passes.
 */
export class IntervalLoadMeter implements LoadSource {
  private arrivals: { inputTokens: number; outputTokens: number }[] = [];
  private outcomes: RequestOutcome[] = [];

  constructor(
    private readonly slo: Pick<Slo, 'ttftSeconds' | 'tpotSeconds'>,
    private intervalStartSeconds: number,
  ) {}

  recordArrival(request: { inputTokens: number; outputTokens: number }): void {
    this.arrivals.push({ inputTokens: request.inputTokens, outputTokens: request.outputTokens });
  }

  recordOutcome(outcome: RequestOutcome): void {
    this.outcomes.push({ ttftSeconds: outcome.ttftSeconds, tpotSeconds: outcome.tpotSeconds });
  }

  takeInterval(nowSeconds: number): IntervalLoad {
    // A clock that did not move still yields a valid (zero-length, idle-rate) sample rather than a negative interval.
    const intervalSeconds = Math.max(0, nowSeconds - this.intervalStartSeconds);
    const load = sampleFromRequests(this.intervalStartSeconds, intervalSeconds, this.arrivals);
    const outcomes = this.outcomes;
    this.arrivals = [];
    this.outcomes = [];
    this.intervalStartSeconds = nowSeconds;
    if (outcomes.length === 0) return { load };
    return {
      load,
      ttftP90Seconds: percentile(outcomes.map((o) => o.ttftSeconds), 90),
      tpotP90Seconds: percentile(outcomes.map((o) => o.tpotSeconds), 90),
      attainment: outcomes.filter((o) => meetsSlo(o, this.slo)).length / outcomes.length,
    };
  }
}

/**
 * The forecasters learn from samples of one fixed length (they refuse a
 * sample whose `intervalSeconds` differs from the ones before), but live
 * intervals are measured, not exact: a timer fires late, a daemon restart
 * leaves a gap, compacted history merges many intervals into one record.
 * This spreads a measured sample over `round(length / nominal)` samples
 * (at least one) of the nominal length at the same mean rate and the same
 * per-request lengths, so the rate the forecaster sees is the rate that
 * was measured. A zero-length sample gives none.
 */
export function onNominalIntervals(sample: LoadSample, nominalSeconds: number): LoadSample[] {
  if (!(sample.intervalSeconds > 0)) return [];
  const count = Math.max(1, Math.round(sample.intervalSeconds / nominalSeconds));
  const requests = (sample.requests / sample.intervalSeconds) * nominalSeconds;
  const lengthFigures = requests > 0 ? sample : { inputMean: 0, inputSecondMoment: 0, outputMean: 0 };
  const step = sample.intervalSeconds / count;
  return Array.from({ length: count }, (_, i) => ({
    startSeconds: sample.startSeconds + i * step,
    intervalSeconds: nominalSeconds,
    requests,
    inputMean: lengthFigures.inputMean,
    inputSecondMoment: lengthFigures.inputSecondMoment,
    outputMean: lengthFigures.outputMean,
  }));
}
