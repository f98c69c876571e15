import { MultivariateLinearRegression } from 'ml-regression';
import type { LoadSample } from '../domain/load.js';
import { RingBuffer } from '../lib/ring-buffer.js';
import { BandedForecaster, checkCount, checkFraction, definedOnly, type BandParams, type LengthFigures } from './banded-forecaster.js';

export interface RegressionParams extends BandParams {
  /** How many past intervals feed each prediction. Default 2. */
  lags?: number;
  /** The model is refitted on at most this many recent intervals, so it follows a drifting relation. Default 120. */
  windowIntervals?: number;
  /** Rate smoothing of the EWMA used until there is enough history to fit. Default 0.5. */
  fallbackAlpha?: number;
}

export const REGRESSION_DEFAULTS = { lags: 2, windowIntervals: 120, fallbackAlpha: 0.5 } as const;

/** What the model sees of one interval: its rate and the (held) length figures after it. */
interface IntervalFeatures {
  rate: number;
  idle: boolean;
  inputMean: number;
  /** √E[l²]: the second moment in tokens, on the scale of the other lengths. */
  inputRms: number;
  outputMean: number;
}

/** A least-squares fit on standardised features (so a rate of 5 and a length of 5 000 are on one scale). */
interface Fit {
  model: MultivariateLinearRegression;
  centres: number[];
  scales: number[];
}

/**
 * Linear regression on lagged features (ml-regression's
 * MultivariateLinearRegression, least squares with an intercept): the last
 * `lags` intervals' rate, mean input, RMS input and mean output predict the
 * next interval. Two fits, refitted after every sample on the last
 * `windowIntervals` intervals:
 * - the rate, over every interval (an idle one is a rate of 0 to predict);
 * - the three length figures, over non-idle intervals only (an idle
 *   interval has no lengths to predict); length features are the held,
 *   request-weighted figures, so idle lags do not read as 0-token prompts.
 * Each needs 2·(features + 1) rows before it is trusted; until then the rate
 * comes from an EWMA and the lengths from the request-weighted smoother.
 * A multi-interval horizon feeds predictions back as lags.
 *
 * Cost per sample: O(window · f² + f³) for f = 4·lags features, i.e.
 * O(window) for fixed lags.
 */
export class RegressionForecaster extends BandedForecaster {
  readonly name = 'regression';
  private readonly lags: number;
  private readonly fallbackAlpha: number;
  private readonly history: RingBuffer<IntervalFeatures>;
  private fallbackRate = 0;
  private rateFit: Fit | undefined;
  private lengthFit: Fit | undefined;

  constructor(params: RegressionParams = {}) {
    super(params);
    const p = { ...REGRESSION_DEFAULTS, ...definedOnly(params) };
    checkCount('lags', p.lags);
    checkCount('windowIntervals', p.windowIntervals);
    checkFraction('fallbackAlpha', p.fallbackAlpha);
    this.lags = p.lags;
    this.fallbackAlpha = p.fallbackAlpha;
    // The window's rows each need `lags` intervals before them.
    this.history = new RingBuffer(p.windowIntervals + p.lags);
  }

  protected learn(sample: LoadSample, rate: number): void {
    this.fallbackRate = !this.sawTraffic ? rate : this.fallbackAlpha * rate + (1 - this.fallbackAlpha) * this.fallbackRate;
    // The base updates the held lengths after learn(); this interval's row needs them now.
    const held = sample.requests > 0 ? sample : this.lengths.current();
    this.history.push({
      rate,
      idle: sample.requests === 0,
      inputMean: held.inputMean,
      inputRms: Math.sqrt(held.inputSecondMoment),
      outputMean: held.outputMean,
    });
    this.refit();
  }

  protected meanRate(steps: number): number {
    if (!this.rateFit) return this.fallbackRate;
    let sum = 0;
    for (const step of this.rollForward(steps)) sum += step.rate;
    return sum / steps;
  }

  protected override lengthForecast(steps: number): LengthFigures {
    if (!this.lengthFit) return this.lengths.current();
    // Over several intervals, per-request figures pool with the predicted rates as weights.
    let weight = 0;
    let input = 0;
    let input2 = 0;
    let output = 0;
    const path = this.rollForward(steps);
    const uniform = path.every((step) => step.rate === 0);
    for (const step of path) {
      const w = uniform ? 1 : step.rate;
      weight += w;
      input += w * step.inputMean;
      input2 += w * step.inputRms * step.inputRms;
      output += w * step.outputMean;
    }
    return { inputMean: input / weight, inputSecondMoment: input2 / weight, outputMean: output / weight };
  }

  /** The predicted next `steps` intervals, each fed back as a lag of the next. */
  private rollForward(steps: number): IntervalFeatures[] {
    const recent = this.history.toArray().slice(-this.lags);
    const path: IntervalFeatures[] = [];
    const held = this.lengths.current();
    let lengths = { inputMean: held.inputMean, inputRms: Math.sqrt(held.inputSecondMoment), outputMean: held.outputMean };
    for (let h = 0; h < steps; h++) {
      const x = featureRow(recent, recent.length, this.lags);
      const rate = this.rateFit ? Math.max(0, predict(this.rateFit, x)[0] as number) : this.fallbackRate;
      if (this.lengthFit) {
        const [inputMean = 0, inputRms = 0, outputMean = 0] = predict(this.lengthFit, x).map((v) => Math.max(0, v));
        // E[l²] ≥ E[l]²: a fit free to predict each figure alone could break it.
        lengths = { inputMean, inputRms: Math.max(inputRms, inputMean), outputMean };
      }
      const step = { rate, idle: rate === 0, ...lengths };
      path.push(step);
      recent.push(step);
      recent.shift();
    }
    return path;
  }

  private refit(): void {
    const rows = this.history.toArray();
    const features = 4 * this.lags;
    const needed = 2 * (features + 1);
    const x: number[][] = [];
    const rateY: number[][] = [];
    const lengthX: number[][] = [];
    const lengthY: number[][] = [];
    for (let i = this.lags; i < rows.length; i++) {
      const row = featureRow(rows, i, this.lags);
      const target = rows[i] as IntervalFeatures;
      x.push(row);
      rateY.push([target.rate]);
      if (!target.idle) {
        lengthX.push(row);
        lengthY.push([target.inputMean, target.inputRms, target.outputMean]);
      }
    }
    this.rateFit = x.length >= needed ? fit(x, rateY) : undefined;
    this.lengthFit = lengthX.length >= needed ? fit(lengthX, lengthY) : undefined;
  }
}

/** Features for predicting rows[end]: the `lags` intervals before it, most recent first. Needs end ≥ lags. */
function featureRow(rows: readonly IntervalFeatures[], end: number, lags: number): number[] {
  const out: number[] = [];
  for (let lag = 1; lag <= lags; lag++) {
    const r = rows[end - lag] as IntervalFeatures;
    out.push(r.rate, r.inputMean, r.inputRms, r.outputMean);
  }
  return out;
}

function fit(x: number[][], y: number[][]): Fit | undefined {
  const columns = (x[0] as number[]).length;
  const centres: number[] = [];
  const scales: number[] = [];
  for (let j = 0; j < columns; j++) {
    let sum = 0;
    for (const row of x) sum += row[j] as number;
    const centre = sum / x.length;
    let squares = 0;
    for (const row of x) squares += ((row[j] as number) - centre) ** 2;
    const spread = Math.sqrt(squares / x.length);
    centres.push(centre);
    // A constant feature centres to a (near-)zero column and its weight comes out 0 (the fit's SVD
    // drops it). Rounding leaves a spread of ~1e-13 on a constant column; dividing by that would
    // blow rounding noise up into a feature, so a spread that small relative to the values counts as none.
    scales.push(spread > 1e-9 * Math.max(1, Math.abs(centre)) ? spread : 1);
  }
  const standardised = x.map((row) => standardise(row, centres, scales));
  const model = new MultivariateLinearRegression(standardised, y, { intercept: true, statistics: false });
  // A degenerate solve yields NaN weights; better the fallback than a NaN forecast.
  if (!model.weights.every((w) => w.every(Number.isFinite))) return undefined;
  return { model, centres, scales };
}

function standardise(row: readonly number[], centres: readonly number[], scales: readonly number[]): number[] {
  return row.map((v, j) => (v - (centres[j] as number)) / (scales[j] as number));
}

function predict(f: Fit, x: readonly number[]): number[] {
  return f.model.predict(standardise(x, f.centres, f.scales));
}
