import type { LoadSample } from '../domain/load.js';
import { BandedForecaster, checkFraction, definedOnly, type BandParams } from './banded-forecaster.js';

export interface HoltParams extends BandParams {
  /** Level smoothing, 0 < alpha ≤ 1. Default 0.5. */
  alpha?: number;
  /** Trend smoothing, 0 < beta ≤ 1. Default 0.2. */
  beta?: number;
  /** Trend damping per interval, 0 < phi ≤ 1 (1: undamped, a straight line forever). Default 0.9. */
  phi?: number;
}

export const HOLT_DEFAULTS = { alpha: 0.5, beta: 0.2, phi: 0.9 } as const;

/**
 * The damped-trend state shared by Holt and Holt-Winters (Gardner & McKenzie):
 * level ℓ and trend b; the h-step forecast is ℓ + (φ + φ² + … + φ^h)·b.
 * Damping matters here: an undamped trend fitted to the rising edge of a
 * burst keeps rising long after the burst has ended.
 */
export class DampedTrend {
  level = 0;
  trend = 0;

  constructor(
    readonly alpha: number,
    readonly beta: number,
    readonly phi: number,
  ) {
    checkFraction('alpha', alpha);
    checkFraction('beta', beta);
    checkFraction('phi', phi);
  }

  /** The first value sets the level; there is no trend to see yet. */
  start(value: number): void {
    this.level = value;
    this.trend = 0;
  }

  update(value: number): void {
    const previous = this.level;
    this.level = this.alpha * value + (1 - this.alpha) * (previous + this.phi * this.trend);
    this.trend = this.beta * (this.level - previous) + (1 - this.beta) * this.phi * this.trend;
  }

  /** Mean of the 1..steps-ahead forecasts: the load over a horizon of `steps` intervals. O(steps). */
  meanOver(steps: number): number {
    let sum = 0;
    let multiplier = 0;
    let power = 1;
    for (let h = 1; h <= steps; h++) {
      power *= this.phi;
      multiplier += power;
      sum += this.level + multiplier * this.trend;
    }
    return sum / steps;
  }
}

/** Holt's linear method with a damped trend on the rate. O(1) per sample. */
export class HoltForecaster extends BandedForecaster {
  readonly name = 'holt';
  private readonly state: DampedTrend;

  constructor(params: HoltParams = {}) {
    super(params);
    const p = { ...HOLT_DEFAULTS, ...definedOnly(params) };
    this.state = new DampedTrend(p.alpha, p.beta, p.phi);
  }

  protected learn(_sample: LoadSample, rate: number): void {
    if (!this.sawTraffic) this.state.start(rate);
    else this.state.update(rate);
  }

  protected meanRate(steps: number): number {
    return this.state.meanOver(steps);
  }
}
