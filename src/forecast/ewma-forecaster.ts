import type { LoadSample } from '../domain/load.js';
import { BandedForecaster, checkFraction, definedOnly, type BandParams } from './banded-forecaster.js';

export interface EwmaParams extends BandParams {
  /** Weight of the newest interval's rate, 0 < alpha ≤ 1 (1 is last-value). Default 0.5. */
  alpha?: number;
}

export const EWMA_DEFAULTS = { alpha: 0.5 } as const;

/**
 * Exponentially weighted moving average of the rate: a flat forecast at the
 * smoothed level, so every horizon gets the same rate. O(1) per sample.
 * The default alpha 0.5 gives the last few minutes (at 60 s intervals) most
 * of the weight: bursty services change level within minutes, and a slower
 * average lags every burst.
 */
export class EwmaForecaster extends BandedForecaster {
  readonly name = 'ewma';
  private readonly alpha: number;
  private level = 0;

  constructor(params: EwmaParams = {}) {
    super(params);
    this.alpha = { ...EWMA_DEFAULTS, ...definedOnly(params) }.alpha;
    checkFraction('alpha', this.alpha);
  }

  protected learn(_sample: LoadSample, rate: number): void {
    this.level = !this.sawTraffic ? rate : this.alpha * rate + (1 - this.alpha) * this.level;
  }

  protected meanRate(): number {
    return this.level;
  }
}
