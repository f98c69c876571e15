import type { Role, WorkerId } from './role.js';

/**
 * Machine-readable reason for a decision. `code` is a stable identifier
 * (used as a metric label, so the set is small and known at start);
 * `detail` carries the numbers that led to it.
 */
export interface DecisionReason {
  code: string;
  message: string;
  detail?: Record<string, number | string | boolean>;
}

/** Desired split of the pool. */
export interface RoleTarget {
  prefill: number;
  decode: number;
}

/** One flip: drain `workerId`, then switch it from `from` to `to`. */
export interface RoleChange {
  workerId: WorkerId;
  from: Role;
  to: Role;
  reason: DecisionReason;
}

/**
 * Why a change the policy wanted was not carried out; stable codes, used as
 * metric labels and in the decision record.
 */
export type SafetyRule =
  | 'advisory' // advisory mode: decide and record, never act
  | 'stale-worker' // the worker could not be scraped: never act on what we cannot see
  | 'manual-override' // an operator pinned the worker to a role until the override expires
  | 'worker-busy' // already draining, switching or starting: one flip at a time per worker
  | 'cooldown' // the worker flipped less than cooldownSeconds ago
  | 'reversal-within-cooldown' // would undo a flip in the other direction made less than cooldownSeconds ago
  | 'min-instances' // would leave a role below its minimum
  | 'max-flips-per-interval' // this interval's flip budget is spent
  | 'tolerance-band' // the target is within toleranceInstances of the current split
  | 'stabilisation-window'; // a recent recommendation in the window is closer to the current split

export const SAFETY_RULES: readonly SafetyRule[] = [
  'advisory',
  'stale-worker',
  'manual-override',
  'worker-busy',
  'cooldown',
  'reversal-within-cooldown',
  'min-instances',
  'max-flips-per-interval',
  'tolerance-band',
  'stabilisation-window',
];

/**
 * The pdpilot policy's reason codes (docs/policies/pdpilot.md). Here rather
 * than in policy/ because telemetry/ pre-sets every code as a metric label
 * and may import only domain/ and lib/: one list serves both.
 */
export const PDPILOT_REASONS = [
  'idle',
  'warm-up',
  'pool-too-small',
  'slo-infeasible',
  'plan-move',
  'floor-move',
  'hold-at-plan',
  'hold-hysteresis',
  'hold-cost',
  'hold-within-error',
  'reactive-prefill-pressure',
  'reactive-decode-pressure',
] as const;
export type PdpilotReason = (typeof PDPILOT_REASONS)[number];
