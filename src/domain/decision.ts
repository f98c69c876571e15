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
