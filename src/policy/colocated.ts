import { Type } from '@sinclair/typebox';
import type { Policy, PolicyContext, PolicyDecision } from './policy.js';
import { currentSplit } from './split.js';

/**
 * `colocated`: every GPU runs both phases (vLLM-style, prefill first), the
 * baseline disaggregation is measured against (docs/policies/colocated.md).
 * There is no split to choose, so it never flips; the simulator recognises
 * it with `isColocated` and builds colocated instances instead of P and D.
 */
export const ColocatedParamsSchema = Type.Object({}, { additionalProperties: false });

export class ColocatedPolicy implements Policy {
  readonly name = 'colocated';
  /** Marker the simulator and the daemon read: run every instance colocated. */
  readonly colocated = true;

  decide(context: PolicyContext): PolicyDecision {
    return {
      target: currentSplit(context.snapshot),
      changes: [],
      reason: { code: 'colocated', message: 'every instance serves both phases; nothing to flip' },
    };
  }
}

export function isColocated(policy: Policy): boolean {
  return policy instanceof ColocatedPolicy;
}
