import { Type, type Static } from '@sinclair/typebox';
import { createForecaster, FORECASTER_NAMES } from '../forecast/create-forecaster.js';
import type { Forecaster } from '../forecast/forecaster.js';
import type { Policy } from './policy.js';

/**
 * A policy that names the forecaster the controller should feed it. The
 * controller owns the forecaster (it observes every interval's sample, even
 * while paused), so the policy cannot hold one itself; instead the
 * composition root (the simulator, the daemon) asks the policy for one when
 * it builds the controller. Policies without a preference get the caller's
 * default (last-value in the simulator).
 */
export interface ForecasterChoosingPolicy extends Policy {
  createForecaster(): Forecaster;
}

export function choosesForecaster(policy: Policy): policy is ForecasterChoosingPolicy {
  return typeof (policy as Partial<ForecasterChoosingPolicy>).createForecaster === 'function';
}

/** `forecaster` parameter of a policy: a model of src/forecast/ by name, with its numeric parameters. */
export const ForecasterChoiceSchema = Type.Object(
  {
    name: Type.Union(
      FORECASTER_NAMES.map((n) => Type.Literal(n)),
      { default: 'ewma', description: 'forecast model (src/forecast/create-forecaster.ts)' },
    ),
    params: Type.Record(Type.String(), Type.Number(), { default: {}, description: "the model's parameters (FORECASTER_DEFAULTS); omitted ones take their defaults" }),
  },
  { additionalProperties: false, default: {} },
);
export type ForecasterChoice = Static<typeof ForecasterChoiceSchema>;

/** Builds the chosen forecaster; unknown parameters are an InputError naming the model. */
export function forecasterOf(choice: ForecasterChoice): Forecaster {
  return createForecaster(choice.name, choice.params);
}
