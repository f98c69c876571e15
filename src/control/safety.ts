/**
 * The controller's safety knobs. Each is a named key with a default and the
 * reason it exists (STYLE.md: every hysteresis knob is a config key with a
 * default and a doc comment). The policy says where the split should go;
 * these rules decide how much of that the fleet is allowed to do now.
 */
export interface SafetyConfig {
  /** Fewest prefill instances the pool keeps, whatever the policy wants (a pool without prefill serves nothing). */
  minPrefillInstances: number;
  /** Fewest decode instances the pool keeps. */
  minDecodeInstances: number;
  /**
   * Most flips started in one interval. Dynamo's load planner moves ±1 per
   * adjustment interval "to avoid over-compensation"; a flip takes capacity
   * out of service while it drains, so several at once can starve both roles.
   */
  maxFlipsPerInterval: number;
  /**
   * A worker that flipped is not flipped again for this long, and no flip in
   * the opposite direction of a recent one (fleet-wide) starts within it:
   * "no flip is undone within its cooldown". A drained instance has cold
   * caches and an empty batch; undoing it at once pays two drains for nothing.
   */
  cooldownSeconds: number;
  /**
   * HPA's tolerance band, in instances: a target that differs from the
   * current split by this many prefill instances or fewer is not acted on.
   * 0 acts on every difference.
   */
  toleranceInstances: number;
  /**
   * HPA's stabilisation window, made two-sided: the controller acts toward
   * the recommendation in the last `stabilisationWindowSeconds` that is
   * closest to the current split, and not at all when the window holds
   * recommendations on both sides of it. 0 disables the window.
   */
  stabilisationWindowSeconds: number;
  /**
   * An observation older than this (controller clock minus snapshot time) is
   * stale as a whole: no decision (Karpenter: do nothing when not synced).
   */
  maxSnapshotAgeSeconds: number;
}

export const DEFAULT_SAFETY: Readonly<SafetyConfig> = Object.freeze({
  minPrefillInstances: 1,
  minDecodeInstances: 1,
  maxFlipsPerInterval: 1,
  cooldownSeconds: 120,
  toleranceInstances: 0,
  stabilisationWindowSeconds: 0,
  maxSnapshotAgeSeconds: 30,
});

export { SAFETY_RULES, type SafetyRule } from '../domain/decision.js';

/** Checks a config's values; returns a list of `key: reason` faults (empty when valid). */
export function safetyConfigFaults(config: SafetyConfig): string[] {
  const faults: string[] = [];
  for (const key of ['minPrefillInstances', 'minDecodeInstances', 'maxFlipsPerInterval', 'toleranceInstances'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 0) faults.push(`${key}: must be an integer ≥ 0, got ${config[key]}`);
  }
  for (const key of ['cooldownSeconds', 'stabilisationWindowSeconds'] as const) {
    if (!(config[key] >= 0)) faults.push(`${key}: must be ≥ 0 seconds, got ${config[key]}`);
  }
  if (!(config.maxSnapshotAgeSeconds > 0)) faults.push(`maxSnapshotAgeSeconds: must be > 0 seconds, got ${config.maxSnapshotAgeSeconds}`);
  return faults;
}
