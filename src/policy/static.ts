import { Type, type Static } from '@sinclair/typebox';
import type { Policy, PolicyContext, PolicyDecision } from './policy.js';
import { clampSplit, flipsToward, usableWorkers } from './split.js';

/**
 * `static`: a fixed split, DistServe's way of serving (docs/policies/static.md).
 * `prefill : decode` is a ratio fitted to the pool: exact when the two add up
 * to the pool, scaled proportionally otherwise (so the default 1:1 halves any
 * pool). The same class serves `static-best`, whose split the caller's search
 * chooses (docs/policies/static-best.md).
 */
export const StaticParamsSchema = Type.Object(
  {
    prefill: Type.Integer({ minimum: 1, default: 1, description: 'prefill instances (or the prefill share of the ratio when prefill + decode ≠ pool)' }),
    decode: Type.Integer({ minimum: 1, default: 1, description: 'decode instances (or the decode share of the ratio)' }),
  },
  { additionalProperties: false },
);
export type StaticParams = Static<typeof StaticParamsSchema>;

export class StaticPolicy implements Policy {
  constructor(
    readonly params: StaticParams,
    readonly name: 'static' | 'static-best' = 'static',
  ) {}

  decide(context: PolicyContext): PolicyDecision {
    const pool = usableWorkers(context.snapshot).length;
    const { prefill, decode } = this.params;
    const exact = prefill + decode === pool;
    const target = clampSplit(exact ? prefill : (pool * prefill) / (prefill + decode), pool);
    const reason = {
      code: 'static-split',
      message: exact
        ? `fixed split ${target.prefill}P/${target.decode}D`
        : `fixed ratio ${prefill}:${decode} fitted to a pool of ${pool}: ${target.prefill}P/${target.decode}D`,
      detail: { requestedPrefill: prefill, requestedDecode: decode, pool, prefill: target.prefill, decode: target.decode, scaled: !exact },
    };
    return { target, changes: flipsToward(context.snapshot, target, reason), reason };
  }
}
