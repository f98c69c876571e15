// Forecasting: the Forecaster contract, the shipped models and their
// factory, trace-to-sample cutting and the walk-forward backtest.
export type { Band, Forecaster, LoadForecast } from './forecaster.js';
export { BandedForecaster, RequestWeightedLengths, type BandParams, type LengthFigures } from './banded-forecaster.js';
export { LastValueForecaster } from './last-value-forecaster.js';
export { EwmaForecaster, type EwmaParams } from './ewma-forecaster.js';
export { HoltForecaster, type HoltParams } from './holt-forecaster.js';
export { HoltWintersForecaster, type HoltWintersParams } from './holt-winters-forecaster.js';
export { RegressionForecaster, type RegressionParams } from './regression-forecaster.js';
export { createForecaster, isForecasterName, FORECASTER_NAMES, FORECASTER_DEFAULTS, type ForecasterName, type ForecasterParams } from './create-forecaster.js';
export { intervalSamples } from './interval-samples.js';
export { poolSamples } from '../domain/load.js';
export { backtest, BACKTEST_QUANTITIES, type BacktestOptions, type BacktestQuantity, type ErrorStats, type HorizonScores, type ModelScore, type RateErrorStats } from './backtest.js';
