import type { LoadSample } from '../domain/load.js';
import { BandedForecaster, type BandParams } from './banded-forecaster.js';

/**
 * Forecasts that the next horizon looks like the last interval: the baseline
 * every other model must beat. Lengths are the last non-idle interval's
 * (lengthAlpha 1), so an idle interval reads rate 0 without zeroing them.
 */
export class LastValueForecaster extends BandedForecaster {
  readonly name = 'last-value';
  private lastRate = 0;

  constructor(params: Omit<BandParams, 'lengthAlpha'> = {}) {
    super({ ...params, lengthAlpha: 1 });
  }

  protected learn(_sample: LoadSample, rate: number): void {
    this.lastRate = rate;
  }

  protected meanRate(): number {
    return this.lastRate;
  }
}
