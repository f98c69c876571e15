import type { DecisionReason, RoleChange, RoleTarget } from '../domain/decision.js';
import type { LoadSample } from '../domain/load.js';
import type { LoadForecast } from '../forecast/forecaster.js';
import type { ActuationResult } from './ports.js';
import type { SafetyRule } from './safety.js';

/** A change the policy wanted that the controller did not carry out, and the rule that held it. */
export interface HeldChange {
  change: RoleChange;
  rule: SafetyRule;
  message: string;
}

/**
 * What one reconcile saw, wanted and did. `status`:
 * - `acted`: at least one flip was handed to the actuator;
 * - `steady`: the split is where the (stabilised) target wants it;
 * - `held`: the target differs, but every flip toward it was held back;
 * - `advisory`: decided and recorded, acting is switched off;
 * - `paused`: observed only (the forecaster stays warm); no decision;
 * - `not-synced`: the observation was missing, unsynced or too old; no decision.
 */
export type DecisionStatus = 'acted' | 'steady' | 'held' | 'advisory' | 'paused' | 'not-synced';

export interface DecisionInputs {
  /** Time of the snapshot the decision used, seconds. */
  snapshotAtSeconds: number;
  workers: number;
  prefill: number;
  decode: number;
  /** Workers that could not be scraped (neither counted nor moved). */
  stale: number;
  /** Workers draining, switching or starting. */
  busy: number;
  /** Flips this controller started that the fleet has not finished yet. */
  pendingFlips: number;
  load: LoadSample;
}

export interface Decision {
  atSeconds: number;
  status: DecisionStatus;
  policy: string;
  inputs?: DecisionInputs;
  forecast?: LoadForecast;
  /** The policy's target. */
  target?: RoleTarget;
  /** The target the controller acted toward after the tolerance band and the stabilisation window. */
  effectiveTarget?: RoleTarget;
  proposed: RoleChange[];
  /** Flips handed to the actuator, with its answer. */
  applied: ActuationResult[];
  held: HeldChange[];
  reason: DecisionReason;
  /** When the caller should reconcile next, seconds on the controller clock (Karpenter's "requeue after"). */
  nextAtSeconds: number;
}

/** Where decisions go: the store live (issue 8), a list in the simulator and the tests. */
export interface DecisionRecorder {
  record(decision: Decision): void | Promise<void>;
}
