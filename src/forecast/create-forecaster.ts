import { InputError } from '../domain/errors.js';
import { BAND_DEFAULTS } from './banded-forecaster.js';
import { EWMA_DEFAULTS, EwmaForecaster } from './ewma-forecaster.js';
import type { Forecaster } from './forecaster.js';
import { HOLT_DEFAULTS, HoltForecaster } from './holt-forecaster.js';
import { HOLT_WINTERS_DEFAULTS, HoltWintersForecaster } from './holt-winters-forecaster.js';
import { LastValueForecaster } from './last-value-forecaster.js';
import { REGRESSION_DEFAULTS, RegressionForecaster } from './regression-forecaster.js';

export const FORECASTER_NAMES = ['last-value', 'ewma', 'holt', 'holt-winters', 'regression'] as const;
export type ForecasterName = (typeof FORECASTER_NAMES)[number];

/** Numeric parameters by name; every model takes the band parameters too. Omitted ones take the defaults. */
export type ForecasterParams = Record<string, number | undefined>;

const { lengthAlpha: _lastValueHasNoLengthAlpha, ...LAST_VALUE_BAND } = BAND_DEFAULTS;

/** Each model's parameters with their defaults: what the factory accepts, and what a config may show. */
export const FORECASTER_DEFAULTS: Record<ForecasterName, Readonly<Record<string, number>>> = {
  'last-value': LAST_VALUE_BAND,
  ewma: { ...BAND_DEFAULTS, ...EWMA_DEFAULTS },
  holt: { ...BAND_DEFAULTS, ...HOLT_DEFAULTS },
  'holt-winters': { ...BAND_DEFAULTS, ...HOLT_WINTERS_DEFAULTS },
  regression: { ...BAND_DEFAULTS, ...REGRESSION_DEFAULTS },
};

export function isForecasterName(name: string): name is ForecasterName {
  return (FORECASTER_NAMES as readonly string[]).includes(name);
}

/**
 * A forecaster by name. An unknown name or parameter is an InputError
 * (a config or a flag chose it); an out-of-range value is one too, naming
 * the parameter.
 */
export function createForecaster(name: string, params: ForecasterParams = {}): Forecaster {
  if (!isForecasterName(name)) {
    throw new InputError('forecaster', `unknown model ${JSON.stringify(name)}; expected one of ${FORECASTER_NAMES.join(', ')}`);
  }
  const known = FORECASTER_DEFAULTS[name];
  for (const key of Object.keys(params)) {
    if (!(key in known)) {
      throw new InputError(`forecaster ${name}`, `unknown parameter ${JSON.stringify(key)}; it takes ${Object.keys(known).join(', ')}`);
    }
  }
  try {
    switch (name) {
      case 'last-value':
        return new LastValueForecaster(params);
      case 'ewma':
        return new EwmaForecaster(params);
      case 'holt':
        return new HoltForecaster(params);
      case 'holt-winters':
        return new HoltWintersForecaster(params);
      case 'regression':
        return new RegressionForecaster(params);
    }
  } catch (error) {
    if (error instanceof RangeError) throw new InputError(`forecaster ${name}`, error.message);
    throw error;
  }
}
