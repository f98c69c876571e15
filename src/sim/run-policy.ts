import type { TraceRequest } from '../domain/request.js';
import type { Slo } from '../domain/slo.js';
import type { Profile } from '../perf/profile.js';
import { isColocated } from '../policy/colocated.js';
import type { Policy } from '../policy/policy.js';
import type { SimOptions } from './options.js';
import { simulate, type SimResult } from './simulate.js';

/** Names the bench and the CLI give policies; the registry (src/policy/registry.ts) makes them. */
export type PolicyFactory = (name: string, params?: Record<string, unknown>) => Policy;

/** The oracle is the upper bound: it sees the future, and flips are free and unlimited. */
export const ORACLE = 'oracle';

/**
 * The simulator settings a policy implies: `colocated` runs colocated
 * instances; the `oracle` sees the coming intervals' true load, flips for
 * free (no drain, no switch time) and is not held back by the controller's
 * flip budget or cooldown.
 */
export function settingsFor(policy: Policy, gpus: number): { options: Partial<SimOptions>; safety?: { maxFlipsPerInterval: number; cooldownSeconds: number } } {
  if (isColocated(policy)) return { options: { colocated: true } };
  if (policy.name === ORACLE) {
    return { options: { freeFlips: true, revealFuture: true }, safety: { maxFlipsPerInterval: gpus, cooldownSeconds: 0 } };
  }
  return { options: {} };
}

export interface PolicyRun {
  trace: Iterable<TraceRequest>;
  profile: Profile;
  policy: Policy;
  slo: Slo;
  /** Pool, split and model settings; the policy's own settings are added. */
  options: SimOptions;
}

export function runPolicy(run: PolicyRun): Promise<SimResult> {
  const settings = settingsFor(run.policy, run.options.gpus);
  return simulate({
    trace: run.trace,
    profile: run.profile,
    policy: run.policy,
    slo: run.slo,
    options: { ...run.options, ...settings.options },
    ...(settings.safety ? { safety: settings.safety } : {}),
  });
}
