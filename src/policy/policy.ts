import type { DecisionReason, RoleChange, RoleTarget } from '../domain/decision.js';
import type { FleetSnapshot } from '../domain/fleet.js';
import type { LoadSample } from '../domain/load.js';
import type { IntervalLatency, ObservedRequest } from '../domain/observation.js';
import type { Slo } from '../domain/slo.js';
import type { LoadForecast } from '../forecast/forecaster.js';
import type { Profile } from '../perf/profile.js';

/** Everything a policy may look at when it decides. Built by the controller each interval. */
export interface PolicyContext {
  /** Controller-clock time, seconds. */
  nowSeconds: number;
  intervalSeconds: number;
  snapshot: FleetSnapshot;
  /** Observed load of past intervals, oldest first (bounded history). */
  history: readonly LoadSample[];
  forecast: LoadForecast;
  /** Latency and refusals of the interval that just ended (Observation.latency), when the observer measured them. */
  latency?: IntervalLatency;
  /** A bounded sample of recent arrivals, oldest first (Observation.recentRequests), when the observer keeps one. */
  recentRequests?: readonly ObservedRequest[];
  profile: Profile;
  slo: Slo;
  /**
   * The true load of the coming intervals, oldest first. Only the simulator
   * can know it, and only the `oracle` policy may read it: it is the upper
   * bound every real policy is measured against.
   */
  future?: readonly LoadSample[];
}

/** What a policy wants: a target split, the flips that move toward it, and why. */
export interface PolicyDecision {
  target: RoleTarget;
  /** Flips the policy proposes; the controller's safety rules may hold some back. */
  changes: RoleChange[];
  reason: DecisionReason;
}

/**
 * Chooses the prefill/decode split. Pure with respect to the outside world:
 * no clock, no I/O — everything comes in through the context — so the same
 * policy runs live and in the simulator. A policy may keep its own state
 * between calls (e.g. "no decode shrink for 3 intervals after growth"), but
 * that state must depend only on the contexts it was given.
 */
export interface Policy {
  readonly name: string;
  decide(context: PolicyContext): PolicyDecision;
}
