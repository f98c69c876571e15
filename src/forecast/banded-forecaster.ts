import type { LoadSample } from '../domain/load.js';
import { RingBuffer } from '../lib/ring-buffer.js';
import { percentile } from '../lib/stats.js';
import type { Forecaster, LoadForecast } from './forecaster.js';

/** Per-request length figures of a forecast (the LoadForecast fields besides the rate). */
export interface LengthFigures {
  inputMean: number;
  /** E[l²] of prompt lengths, tokens². */
  inputSecondMoment: number;
  outputMean: number;
}

export const ZERO_LENGTHS: LengthFigures = Object.freeze({ inputMean: 0, inputSecondMoment: 0, outputMean: 0 });

/**
 * Length figures smoothed as request-weighted moments: each non-idle interval
 * enters with weight (its request count) and older weight decays by
 * (1 − alpha) per non-idle interval. Two consequences:
 * - an idle interval changes nothing, so after an idle gap the lengths are
 *   those of the last non-idle intervals while the rate reads 0 (a plain
 *   average of per-interval means would drag them toward 0);
 * - a 1-request interval barely moves an estimate built on hundreds.
 * Averaging E[l²] with request weights gives the pooled E[l²] of the mixed
 * population, so E[l²] ≥ E[l]² keeps holding. alpha = 1 keeps exactly the
 * last non-idle interval's figures.
 */
export class RequestWeightedLengths {
  private weight = 0;
  private input = 0;
  private input2 = 0;
  private output = 0;

  constructor(readonly alpha: number) {
    checkFraction('lengthAlpha', alpha);
  }

  observe(sample: LoadSample): void {
    if (sample.requests === 0) return;
    const keep = 1 - this.alpha;
    const add = this.alpha * sample.requests;
    this.weight = keep * this.weight + add;
    this.input = keep * this.input + add * sample.inputMean;
    this.input2 = keep * this.input2 + add * sample.inputSecondMoment;
    this.output = keep * this.output + add * sample.outputMean;
  }

  /** Zeros until a non-idle interval has been seen, never NaN. */
  current(): LengthFigures {
    if (this.weight === 0) return ZERO_LENGTHS;
    return { inputMean: this.input / this.weight, inputSecondMoment: this.input2 / this.weight, outputMean: this.output / this.weight };
  }
}

export interface BandParams {
  /** Quantile (0–1) of recent absolute one-step rate errors used as the band's half-width. Default 0.9. */
  bandQuantile?: number;
  /** How many recent one-step errors the band is taken from, in intervals. Default 60. */
  residualWindowIntervals?: number;
  /** Smoothing of the request-weighted length figures (see RequestWeightedLengths). Default 0.5, the rate smoothers' weight: lengths drift within minutes on a smooth service (conv) and are noisy per interval on a bursty one (code), and neither extreme serves both. */
  lengthAlpha?: number;
}

export const BAND_DEFAULTS = { bandQuantile: 0.9, residualWindowIntervals: 60, lengthAlpha: 0.5 } as const;

/**
 * What every shipped forecaster shares: sample checks, the fixed interval,
 * the uncertainty band, request-weighted lengths and the clamp at 0.
 * Subclasses model the request rate only (and may override the lengths).
 *
 * Band: before each sample is learned, the forecaster's one-step rate
 * forecast is compared with the sample's rate; the band is the forecast ±
 * the `bandQuantile` quantile of the last `residualWindowIntervals` absolute
 * errors, widened by √steps for a multi-interval horizon (errors of a
 * level that wanders like a random walk grow with √h; bursty traffic moves
 * in level shifts, which that describes better than white noise would),
 * and cut at 0 below. With no errors seen yet the band has zero width.
 *
 * Horizon: a forecast for `horizonSeconds` is the mean over the whole
 * intervals that cover it, ceil(horizonSeconds / intervalSeconds), at least 1.
 */
export abstract class BandedForecaster implements Forecaster {
  abstract readonly name: string;
  /** The interval every sample has; fixed by the first sample. */
  protected intervalSeconds: number | undefined;
  /** Samples observed so far. */
  protected observed = 0;
  /**
   * Whether a sample with traffic has been learned. Until then the model has
   * no level to forecast from: rate models start their level at the first
   * busy sample (not at the idle ticks before it), and the jump from idle to
   * the first traffic is not a forecast error — recorded as a residual, that
   * one onset would hold the band at its width for the whole residual window.
   */
  protected sawTraffic = false;
  protected readonly lengths: RequestWeightedLengths;
  private readonly bandQuantile: number;
  private readonly residuals: RingBuffer<number>;

  constructor(params: BandParams) {
    const p = { ...BAND_DEFAULTS, ...definedOnly(params) };
    checkFraction('bandQuantile', p.bandQuantile);
    checkCount('residualWindowIntervals', p.residualWindowIntervals);
    this.bandQuantile = p.bandQuantile;
    this.residuals = new RingBuffer(p.residualWindowIntervals);
    this.lengths = new RequestWeightedLengths(p.lengthAlpha);
  }

  observe(sample: LoadSample): void {
    checkSample(sample, this.intervalSeconds);
    const rate = sample.requests / sample.intervalSeconds;
    if (this.sawTraffic) this.residuals.push(Math.abs(rate - Math.max(0, this.meanRate(1))));
    this.intervalSeconds = sample.intervalSeconds;
    this.learn(sample, rate);
    this.lengths.observe(sample);
    this.observed++;
    if (sample.requests > 0) this.sawTraffic = true;
  }

  forecast(horizonSeconds: number): LoadForecast {
    if (!(horizonSeconds > 0) || !Number.isFinite(horizonSeconds)) {
      throw new RangeError(`horizonSeconds must be a positive finite number, got ${horizonSeconds}`);
    }
    if (this.intervalSeconds === undefined) {
      return { horizonSeconds, requestsPerSecond: { mean: 0, low: 0, high: 0 }, ...ZERO_LENGTHS };
    }
    // The epsilon keeps 120 s / 60 s at 2 steps despite float noise in a caller's sums.
    const steps = Math.max(1, Math.ceil(horizonSeconds / this.intervalSeconds - 1e-9));
    const mean = Math.max(0, this.meanRate(steps));
    const halfWidth = this.residuals.length === 0 ? 0 : percentile(this.residuals.toArray(), this.bandQuantile * 100) * Math.sqrt(steps);
    return {
      horizonSeconds,
      requestsPerSecond: { mean, low: Math.max(0, mean - halfWidth), high: mean + halfWidth },
      ...this.lengthForecast(steps),
    };
  }

  /** Learns one sample's rate (requests/s). Called after the residual of the previous forecast is taken. */
  protected abstract learn(sample: LoadSample, rate: number): void;

  /** Mean forecast rate over the next `steps` intervals, unclamped (the base clamps). Only called after a sample. */
  protected abstract meanRate(steps: number): number;

  /** Per-request lengths over the next `steps` intervals. Default: the request-weighted smoothed figures. */
  protected lengthForecast(_steps: number): LengthFigures {
    return this.lengths.current();
  }
}

/** A sample the forecasters can learn from: finite, non-negative, on the same interval as the ones before. */
function checkSample(sample: LoadSample, intervalSeconds: number | undefined): void {
  const { requests, inputMean, inputSecondMoment, outputMean } = sample;
  if (!(sample.intervalSeconds > 0) || !Number.isFinite(sample.intervalSeconds)) {
    throw new RangeError(`sample intervalSeconds must be a positive finite number, got ${sample.intervalSeconds}`);
  }
  if (intervalSeconds !== undefined && sample.intervalSeconds !== intervalSeconds) {
    throw new RangeError(`samples must share one interval: got ${sample.intervalSeconds} s after ${intervalSeconds} s`);
  }
  for (const [name, value] of Object.entries({ requests, inputMean, inputSecondMoment, outputMean })) {
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`sample ${name} must be a finite number ≥ 0, got ${value}`);
  }
}

/** Drops keys whose value is undefined, so `{ ...defaults, ...definedOnly(params) }` keeps the defaults. */
export function definedOnly<T extends object>(params: T): Partial<T> {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A smoothing weight or quantile: 0 < value ≤ 1. */
export function checkFraction(name: string, value: number): void {
  if (!(value > 0 && value <= 1)) throw new RangeError(`${name} must be within (0, 1], got ${value}`);
}

export function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}
