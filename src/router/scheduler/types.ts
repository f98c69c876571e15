/**
 * Contracts of the scheduling pipeline, and nothing else: filters narrow the
 * candidates, weighted scorers rank them, a picker chooses one
 * (docs/router.md). The pipeline (scheduler.ts) and every plugin depend on
 * these types, never on each other.
 *
 * Candidates are presented as a view of parallel typed arrays indexed by
 * instance, not as an object per instance, so that the simulator can route
 * millions of requests over a thousand instances without allocating. The
 * owner of a view (the simulated cluster, or the live router's fleet cache)
 * keeps it current; plugins only read it.
 *
 * Pure: no clock reads, no timers, no I/O. Time comes in as `nowSeconds`.
 */

/** What every view shares: how many instances, and which accept new work. */
export interface InstanceView {
  /** Instances indexed 0..count-1 (arrays may be longer). */
  count: number;
  /** 1 when the instance serves this phase and is ready (not starting, draining or switching), else 0. */
  accepting: Uint8Array;
}

/** Prefill instances as the prefill choice sees them. */
export interface PrefillView extends InstanceView {
  /** Prompts waiting, not yet in a batch. */
  queuedRequests: Float64Array;
  /** Σ prompt tokens waiting. */
  queuedTokens: Float64Array;
  /** Σ (prompt tokens)² waiting: prefill cost is convex in the prompt length. */
  queuedSquaredTokens: Float64Array;
  /** Prompts in the batch now running. */
  runningRequests: Float64Array;
  /** When the batch now running ends, seconds on the caller's clock (≤ now when idle). */
  busyUntilSeconds: Float64Array;
}

/** Decode instances as the decode choice sees them. */
export interface DecodeView extends InstanceView {
  /** KV tokens not reserved by running, joining or waiting requests (may be negative when oversubscribed). */
  freeKvTokens: Float64Array;
  kvCapacityTokens: Float64Array;
  /** Requests running plus waiting to join. */
  loadRequests: Float64Array;
}

/** What the router knows about a request when it places it: its prompt, not its output. */
export interface ScheduleRequest {
  promptTokens: number;
}

/** Clears `eligible[i]` for candidates the filter rules out; never sets one. */
export interface Filter<V extends InstanceView> {
  readonly name: string;
  apply(view: V, request: ScheduleRequest, nowSeconds: number, eligible: Uint8Array): void;
}

/**
 * Writes a score in [0, 1] for every eligible candidate into `out` (higher
 * is better); entries of ineligible candidates are ignored. The pipeline
 * clamps to [0, 1] and reads NaN as 0, so a scorer bug cannot dominate.
 */
export interface Scorer<V extends InstanceView> {
  readonly name: string;
  score(view: V, request: ScheduleRequest, nowSeconds: number, eligible: Uint8Array, out: Float64Array): void;
}

/** Chooses one eligible index from the weighted total scores. */
export interface Picker {
  readonly name: string;
  pick(eligible: Uint8Array, totals: Float64Array, count: number): number;
}

export interface WeightedScorer<V extends InstanceView> {
  scorer: Scorer<V>;
  weight: number;
}

/** Nothing was eligible: `reason` names the stage that emptied the set. */
export class NoEligibleInstanceError extends Error {
  constructor(
    readonly phase: 'prefill' | 'decode',
    readonly reason: 'none-accepting' | 'filtered',
    readonly filter?: string,
  ) {
    super(
      reason === 'none-accepting'
        ? `no ${phase} instance is accepting work`
        : `every ${phase} instance was ruled out by filter ${filter ?? '?'}`,
    );
    this.name = 'NoEligibleInstanceError';
  }
}
