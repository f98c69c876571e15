import type { LoadSample } from '../domain/load.js';
import { checkFraction, definedOnly, BandedForecaster } from './banded-forecaster.js';
import { DampedTrend, HOLT_DEFAULTS, type HoltParams } from './holt-forecaster.js';

export interface HoltWintersParams extends HoltParams {
  /** Seasonal smoothing, 0 < gamma ≤ 1. Default 0.3. */
  gamma?: number;
  /**
   * Length of one season, seconds; the season has round(seasonSeconds /
   * intervalSeconds) intervals (at least 2). Default 86 400: one day, the
   * cycle production LLM traffic repeats (use 604 800 to also learn the
   * weekday/weekend difference, at the cost of a week's history before the
   * seasons are known). An hour-long trace such as the Azure ones holds no
   * season at all: with the default the model never completes its first
   * season and forecasts exactly as damped Holt. A short season (say 600 s)
   * on such a trace would invent a pattern that is not there.
   */
  seasonSeconds?: number;
}

export const HOLT_WINTERS_DEFAULTS = { ...HOLT_DEFAULTS, gamma: 0.3, seasonSeconds: 86_400 } as const;

/**
 * Additive Holt-Winters with a damped trend on the rate. Additive, not
 * multiplicative: idle intervals make the rate 0, and a multiplicative
 * season divides by the level.
 *
 * Start-up: the first season's rates are buffered while the damped trend
 * alone forecasts; once a full season is seen, the level is its mean, the
 * trend 0, and each phase's seasonal index its deviation from that mean
 * (the classical initialisation). O(1) per sample, O(season) memory.
 */
export class HoltWintersForecaster extends BandedForecaster {
  readonly name = 'holt-winters';
  private readonly state: DampedTrend;
  private readonly gamma: number;
  private readonly seasonSeconds: number;
  /** Intervals per season, fixed by the first sample's interval. */
  private seasonIntervals = 0;
  /** Seasonal index per phase; empty until the first season is complete. */
  private seasonal: number[] = [];
  /** The first season's rates, kept only until it is complete. */
  private firstSeason: number[] = [];

  constructor(params: HoltWintersParams = {}) {
    super(params);
    const p = { ...HOLT_WINTERS_DEFAULTS, ...definedOnly(params) };
    checkFraction('gamma', p.gamma);
    if (!(p.seasonSeconds > 0) || !Number.isFinite(p.seasonSeconds)) {
      throw new RangeError(`seasonSeconds must be a positive finite number, got ${p.seasonSeconds}`);
    }
    this.state = new DampedTrend(p.alpha, p.beta, p.phi);
    this.gamma = p.gamma;
    this.seasonSeconds = p.seasonSeconds;
  }

  protected learn(sample: LoadSample, rate: number): void {
    if (this.observed === 0) {
      this.seasonIntervals = Math.round(this.seasonSeconds / sample.intervalSeconds);
      if (this.seasonIntervals < 2) {
        throw new RangeError(`seasonSeconds ${this.seasonSeconds} holds fewer than 2 intervals of ${sample.intervalSeconds} s`);
      }
      this.state.start(rate);
    } else if (this.seasonal.length === 0) {
      this.state.update(rate);
    }
    if (this.seasonal.length === 0) {
      this.firstSeason.push(rate);
      if (this.firstSeason.length === this.seasonIntervals) this.initialiseSeasons();
      return;
    }
    const phase = this.observed % this.seasonIntervals;
    const index = this.seasonal[phase] as number;
    this.state.update(rate - index);
    this.seasonal[phase] = this.gamma * (rate - this.state.level) + (1 - this.gamma) * index;
  }

  protected meanRate(steps: number): number {
    const trended = this.state.meanOver(steps);
    if (this.seasonal.length === 0) return trended;
    // The next sample is number `observed`, so its phase is observed mod m.
    let seasonSum = 0;
    for (let h = 0; h < steps; h++) seasonSum += this.seasonal[(this.observed + h) % this.seasonIntervals] as number;
    return trended + seasonSum / steps;
  }

  private initialiseSeasons(): void {
    const mean = this.firstSeason.reduce((a, b) => a + b, 0) / this.firstSeason.length;
    this.seasonal = this.firstSeason.map((rate) => rate - mean);
    this.firstSeason = [];
    this.state.start(mean);
  }
}
