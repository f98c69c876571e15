import mlRegression from 'ml-regression';
import type { DecodeCoefficients, LatencyCoefficients } from './profile.js';

/** One measured prefill batch: its prompt lengths and how long it took. */
export interface PrefillMeasurement {
  promptTokens: readonly number[];
  ms: number;
}

/** One measured decode step. */
export interface DecodeMeasurement {
  batch: number;
  /** Σ context over the batch before the step (the fit uses Σ(context+1)). */
  sumContextTokens: number;
  ms: number;
}

/** Least-squares fit of y = a + b·x1 + c·x2 (ml-regression's multivariate linear regression). */
export function fitLinear2(x1: readonly number[], x2: readonly number[], y: readonly number[]): LatencyCoefficients {
  const n = y.length;
  if (n < 3 || x1.length !== n || x2.length !== n) {
    throw new RangeError(`need at least 3 aligned points to fit [a, b, c], got ${n}`);
  }
  // Scale the features so the normal equations stay well conditioned when
  // Σl² is ~1e8 while Σl is ~1e4; unscale the slopes afterwards.
  const s1 = Math.max(...x1.map(Math.abs)) || 1;
  const s2 = Math.max(...x2.map(Math.abs)) || 1;
  const features = x1.map((v, i) => [v / s1, (x2[i] as number) / s2]);
  const model = new mlRegression.MultivariateLinearRegression(features, y.map((v) => [v]), { intercept: true });
  const w = model.weights;
  // weights: one row per feature, then the intercept row.
  const b = (w[0]?.[0] ?? 0) / s1;
  const c = (w[1]?.[0] ?? 0) / s2;
  const a = w[2]?.[0] ?? 0;
  return [a, b, c];
}

/** Recovers prefill [a, b, c] for ms = a + b·Σl + c·Σl². */
export function fitPrefill(points: readonly PrefillMeasurement[]): LatencyCoefficients {
  const sums = points.map((p) => p.promptTokens.reduce((s, l) => s + l, 0));
  const squares = points.map((p) => p.promptTokens.reduce((s, l) => s + l * l, 0));
  return fitLinear2(sums, squares, points.map((p) => p.ms));
}

/** Recovers decode [a, b, c] for ms = a + b·Σ(context+1) + c·batch, one fit per side of the threshold. */
export function fitDecode(points: readonly DecodeMeasurement[], thresholdBatch: number): DecodeCoefficients {
  const fit = (subset: readonly DecodeMeasurement[]) =>
    fitLinear2(
      subset.map((p) => p.sumContextTokens + p.batch),
      subset.map((p) => p.batch),
      subset.map((p) => p.ms),
    );
  const small = points.filter((p) => p.batch < thresholdBatch);
  const large = points.filter((p) => p.batch >= thresholdBatch);
  // With too few points on one side, both regimes share the fit of all points.
  const all = small.length >= 3 && large.length >= 3 ? null : fit(points);
  return {
    smallBatch: all ?? fit(small),
    largeBatch: all ?? fit(large),
    thresholdBatch,
  };
}
