import type { RoleChange } from '../domain/decision.js';
import type { FleetSnapshot } from '../domain/fleet.js';
import type { LoadSample } from '../domain/load.js';
import type { IntervalLatency, ObservedRequest } from '../domain/observation.js';

/**
 * What the controller observes each interval. Live, the fleet scraper builds
 * it from worker metrics and the router's arrival log; in the simulator, the
 * simulated cluster builds it from its own state.
 */
export interface Observation {
  snapshot: FleetSnapshot;
  /** Load of the interval that just ended. */
  load: LoadSample;
  /** Latency and refusals of the interval that just ended, as the front door measured them. */
  latency?: IntervalLatency;
  /**
   * A bounded sample of recent arrivals (the last intervals', oldest first),
   * for policies that replay recent requests through a model of the fleet.
   */
  recentRequests?: readonly ObservedRequest[];
  /** True load of upcoming intervals; the simulator supplies it for the oracle policy only. */
  future?: readonly LoadSample[];
  /**
   * False when the observer's view is incomplete (e.g. the worker list is
   * still being discovered): the controller then makes no decision. Absent
   * means synced. Individual unreachable workers are marked `stale` instead.
   */
  synced?: boolean;
}

/** The controller's view of the fleet. */
export interface FleetObserver {
  observe(): Promise<Observation>;
}

export type ActuationOutcome = 'started' | 'done' | 'refused' | 'failed';

export interface ActuationResult {
  change: RoleChange;
  outcome: ActuationOutcome;
  /** Why it was refused or failed. */
  message?: string;
}

/**
 * Carries out flips: drain the worker, then switch its role. Live, through
 * the worker protocol; in the simulator, on simulated instances. `apply`
 * returns once each flip has started (draining may take longer); the next
 * observation shows the worker as draining/switching until it is done.
 */
export interface Actuator {
  apply(changes: readonly RoleChange[]): Promise<ActuationResult[]>;
}
