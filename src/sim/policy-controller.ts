import type { Slo } from '../domain/slo.js';
import type { LoadSample } from '../domain/load.js';
import type { Actuator, FleetObserver } from '../control/ports.js';
import { LastValueForecaster, type Forecaster } from '../forecast/forecaster.js';
import type { Profile } from '../perf/profile.js';
import type { Policy, PolicyDecision } from '../policy/policy.js';

/** Past intervals kept for the policy (an hour at 30 s intervals). */
const HISTORY_INTERVALS = 120;

/**
 * observe → forecast → decide → actuate, once per control tick, over the
 * FleetObserver and Actuator ports. A thin stand-in for src/control/'s
 * reconcileOnce (being built on the `policy` branch), with none of its safety
 * rules; the simulator switches to the real controller when it lands.
 */
export class PolicyController {
  private readonly history: LoadSample[] = [];

  constructor(
    private readonly policy: Policy,
    private readonly observer: FleetObserver,
    private readonly actuator: Actuator,
    private readonly profile: Profile,
    private readonly slo: Slo,
    private readonly intervalSeconds: number,
    private readonly forecaster: Forecaster = new LastValueForecaster(),
  ) {}

  async reconcileOnce(): Promise<PolicyDecision> {
    const observation = await this.observer.observe();
    this.forecaster.observe(observation.load);
    this.history.push(observation.load);
    if (this.history.length > HISTORY_INTERVALS) this.history.shift();
    const decision = this.policy.decide({
      nowSeconds: observation.snapshot.atSeconds,
      intervalSeconds: this.intervalSeconds,
      snapshot: observation.snapshot,
      history: this.history,
      forecast: this.forecaster.forecast(this.intervalSeconds),
      profile: this.profile,
      slo: this.slo,
      ...(observation.future ? { future: observation.future } : {}),
    });
    await this.actuator.apply(decision.changes);
    return decision;
  }
}
