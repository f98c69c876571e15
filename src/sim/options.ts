import type { PrefillRouter } from '../router/scheduler/index.js';

/**
 * How the simulated cluster behaves (docs/sim.md). Everything has a default
 * except the pool; `compat: 'distserve'` overrides several of them at once.
 */
export interface SimOptions {
  /** GPUs in the pool (the budget in elastic mode). */
  gpus: number;
  /** Initial split; defaults to half and half (prefill gets the odd one). Ignored when colocated. */
  initialPrefill?: number;
  /** Every instance serves both phases (the `colocated` baseline). */
  colocated?: boolean;
  /** Arrivals `rateScale`× faster (time t becomes t / rateScale). Default 1. */
  rateScale?: number;
  /** Prefill batch budget L_m, prompt tokens per batch. Default 4,096. */
  prefillTokenBudget?: number;
  /** Model the prefill→decode KV transfer. Default true. */
  kvTransfer?: boolean;
  /** Link bandwidth for the KV transfer, bytes per second. Default 300 GB/s (NVLink-class, per direction). */
  linkBytesPerSecond?: number;
  /** Prefill routing rule. Default length-aware. */
  router?: PrefillRouter;
  /** Prompts of at most this many tokens prefill on the decode instance itself; 0 (default) disables. */
  localPrefillMaxTokens?: number;
  /** Seconds between control ticks. Default 30. */
  intervalSeconds?: number;
  /** Flips cost nothing and take effect at once (the oracle's upper bound). Default false. */
  freeFlips?: boolean;
  /** Hand the controller the true load of upcoming intervals (the oracle only). Default false. */
  revealFuture?: boolean;
  /** Elastic pool: the controller may grow the pool up to `gpus` (after profile.startSeconds) and idle instances are removed. Default false. */
  elastic?: boolean;
  /** Reproduce DistServe's simulator (docs/sim.md, "compat distserve"). */
  compat?: 'distserve';
}

/** Defaults, named so docs and tests can cite them. */
export const SIM_DEFAULTS = {
  rateScale: 1,
  prefillTokenBudget: 4096,
  kvTransfer: true,
  linkBytesPerSecond: 300e9,
  router: 'length-aware' as PrefillRouter,
  localPrefillMaxTokens: 0,
  intervalSeconds: 30,
} as const;

/**
 * DistServe's simulator, as the compat preset reproduces it: decode batches
 * hold at most this many context tokens (hard-coded there), and every
 * iteration pays 2 ms plus 0.0001 ms per token it processes.
 */
export const DISTSERVE_COMPAT = {
  decodeBatchContextTokens: 50_000,
  iterationOverheadMs: 2,
  iterationOverheadMsPerToken: 0.0001,
} as const;

export interface ResolvedSimOptions {
  gpus: number;
  initialPrefill: number;
  colocated: boolean;
  rateScale: number;
  prefillTokenBudget: number;
  kvTransfer: boolean;
  linkBytesPerSecond: number;
  router: PrefillRouter;
  localPrefillMaxTokens: number;
  intervalSeconds: number;
  freeFlips: boolean;
  revealFuture: boolean;
  elastic: boolean;
  compat: boolean;
}

export function resolveOptions(options: SimOptions, kvCapacityTokens: number): ResolvedSimOptions {
  const compat = options.compat === 'distserve';
  const gpus = options.gpus;
  if (!Number.isInteger(gpus) || gpus < 1) throw new RangeError(`gpus must be a positive integer, got ${gpus}`);
  const colocated = options.colocated ?? false;
  const initialPrefill = options.initialPrefill ?? Math.ceil(gpus / 2);
  if (!colocated && (gpus < 2 || initialPrefill < 1 || initialPrefill > gpus - 1)) {
    throw new RangeError(`a disaggregated pool needs at least one prefill and one decode instance: ${initialPrefill} prefill of ${gpus} GPUs`);
  }
  const resolved: ResolvedSimOptions = {
    gpus,
    initialPrefill: colocated ? 0 : initialPrefill,
    colocated,
    rateScale: options.rateScale ?? SIM_DEFAULTS.rateScale,
    prefillTokenBudget: options.prefillTokenBudget ?? SIM_DEFAULTS.prefillTokenBudget,
    kvTransfer: options.kvTransfer ?? SIM_DEFAULTS.kvTransfer,
    linkBytesPerSecond: options.linkBytesPerSecond ?? SIM_DEFAULTS.linkBytesPerSecond,
    router: options.router ?? SIM_DEFAULTS.router,
    localPrefillMaxTokens: options.localPrefillMaxTokens ?? SIM_DEFAULTS.localPrefillMaxTokens,
    intervalSeconds: options.intervalSeconds ?? SIM_DEFAULTS.intervalSeconds,
    freeFlips: options.freeFlips ?? false,
    revealFuture: options.revealFuture ?? false,
    elastic: options.elastic ?? false,
    compat,
  };
  if (compat) {
    // DistServe's simulator: no transfer time, prefill batches bounded by the KV capacity, fewest-requests routing.
    resolved.kvTransfer = false;
    resolved.prefillTokenBudget = kvCapacityTokens;
    resolved.router = 'shortest-queue';
    resolved.localPrefillMaxTokens = 0;
  }
  if (!(resolved.rateScale > 0) || !Number.isFinite(resolved.rateScale)) throw new RangeError(`rateScale must be positive, got ${resolved.rateScale}`);
  if (!(resolved.prefillTokenBudget >= 1)) throw new RangeError(`prefillTokenBudget must be ≥ 1, got ${resolved.prefillTokenBudget}`);
  if (!(resolved.linkBytesPerSecond > 0)) throw new RangeError(`linkBytesPerSecond must be positive, got ${resolved.linkBytesPerSecond}`);
  if (!(resolved.intervalSeconds > 0)) throw new RangeError(`intervalSeconds must be positive, got ${resolved.intervalSeconds}`);
  return resolved;
}

/** DistServe's per-iteration overhead for an iteration over `tokens` tokens, ms (0 outside compat). */
export function iterationOverheadMs(compat: boolean, tokens: number): number {
  return compat ? DISTSERVE_COMPAT.iterationOverheadMs + DISTSERVE_COMPAT.iterationOverheadMsPerToken * tokens : 0;
}
