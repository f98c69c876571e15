import type { LoadSample } from '../domain/load.js';
import type { Forecaster, LoadForecast } from '../forecast/forecaster.js';
import type { Policy, PolicyContext, PolicyDecision } from '../policy/policy.js';

/**
 * A Policy whose implementation can be replaced between reconciles (admin
 * API policy put). The Controller keeps its safety state (cooldowns, the
 * stabilisation window, flips in flight) across the swap, which rebuilding
 * the Controller would lose.
 */
export class SwitchablePolicy implements Policy {
  constructor(private current: Policy) {}

  get name(): string {
    return this.current.name;
  }

  replace(policy: Policy): void {
    this.current = policy;
  }

  decide(context: PolicyContext): PolicyDecision {
    return this.current.decide(context);
  }
}

/** A Forecaster the refit job can replace by one rebuilt from the stored history. */
export class SwitchableForecaster implements Forecaster {
  constructor(private current: Forecaster) {}

  get name(): string {
    return this.current.name;
  }

  replace(forecaster: Forecaster): void {
    this.current = forecaster;
  }

  observe(sample: LoadSample): void {
    this.current.observe(sample);
  }

  forecast(horizonSeconds: number): LoadForecast {
    return this.current.forecast(horizonSeconds);
  }
}
