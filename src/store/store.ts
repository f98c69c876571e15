import type { DecisionReason, RoleChange, RoleTarget } from '../domain/decision.js';
import type { LoadSample } from '../domain/load.js';
import type { Role, WorkerId } from '../domain/role.js';

/**
 * The Store port: what the daemon persists between restarts. This file holds
 * only the interface and the persisted record types, so that control/ may
 * import it (eslint: control sees store/ through this file alone); the
 * implementations live beside it (docs/store.md).
 *
 * Every record is plain JSON: what goes in comes back equal after a restart.
 * Times are given by the caller, never read here: `…Iso` fields are wall-clock
 * instants (`Date.prototype.toISOString()` form, UTC), the only clock that
 * survives a restart; `…Seconds` fields on the controller's clock (monotonic,
 * but its origin resets when the daemon restarts) are kept to correlate
 * records within one run.
 */

/** Version of the persisted document layout this build reads and writes. */
export const STORE_SCHEMA_VERSION = 1;

/**
 * A change handed to the actuator, with its answer. Same shape as control's
 * `ActuationResult`; `outcome` is one of `started | done | refused | failed`.
 */
export interface AppliedChangeRecord {
  change: RoleChange;
  outcome: string;
  message?: string;
}

/** A change the policy wanted that a safety rule held back (control's `HeldChange`; `rule` is a `SafetyRule` code). */
export interface HeldChangeRecord {
  change: RoleChange;
  rule: string;
  message: string;
}

/** What the controller saw when it decided (control's `DecisionInputs`). */
export interface DecisionInputsRecord {
  snapshotAtSeconds: number;
  workers: number;
  prefill: number;
  decode: number;
  stale: number;
  busy: number;
  pendingFlips: number;
  load: LoadSample;
}

/** The forecast the decision used (forecast's `LoadForecast`). */
export interface ForecastRecord {
  horizonSeconds: number;
  requestsPerSecond: { mean: number; low: number; high: number };
  inputMean: number;
  inputSecondMoment: number;
  outputMean: number;
}

/**
 * One reconcile, as the controller produced it plus what only the store
 * knows. A control `Decision` maps onto it field for field
 * (`{ ...decision, atIso, advisory }`); `status` is the decision's outcome
 * (`acted | steady | held | advisory | paused | not-synced`).
 */
export interface NewDecisionRecord {
  /** Controller-clock time of the decision, seconds. */
  atSeconds: number;
  /** Wall-clock time of the decision. */
  atIso: string;
  status: string;
  policy: string;
  /** True when the controller was in advisory mode (decided, did not act). */
  advisory: boolean;
  inputs?: DecisionInputsRecord;
  forecast?: ForecastRecord;
  target?: RoleTarget;
  effectiveTarget?: RoleTarget;
  proposed: RoleChange[];
  applied: AppliedChangeRecord[];
  held: HeldChangeRecord[];
  reason: DecisionReason;
  nextAtSeconds?: number;
}

export interface DecisionRecord extends NewDecisionRecord {
  /** Assigned by the store: increasing in append order, never reused (also after retention). */
  id: number;
}

/** Filters and paging for decisions. Results are newest first. */
export interface DecisionQuery {
  /** Inclusive lower bound on `atIso`. */
  fromIso?: string;
  /** Exclusive upper bound on `atIso`. */
  toIso?: string;
  /** Keep decisions whose `reason.code` is one of these. */
  reasonCodes?: readonly string[];
  /** Keep decisions whose `status` is one of these. */
  statuses?: readonly string[];
  /** true: at least one change was handed to the actuator and it answered `started` or `done`; false: none was. */
  applied?: boolean;
  /** true: at least one change was held back; false: none was. */
  held?: boolean;
  /** Page size, 1…MAX_PAGE_LIMIT (default DEFAULT_PAGE_LIMIT). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

export interface Page<T> {
  items: T[];
  /** Present when more items match; pass it as `cursor` for the next page. */
  nextCursor?: string;
}

/**
 * Load of one controller interval (or, once compacted, of several merged
 * intervals), with what the router measured of it.
 */
export interface LoadHistoryRecord {
  /** Wall-clock start of the (first) interval. */
  startIso: string;
  /**
   * The sample the forecaster learns from. For a compacted record:
   * `requests` is the sum, the length moments are request-weighted means,
   * `intervalSeconds` is the summed length of the merged intervals (so
   * requests / intervalSeconds is still the mean rate over observed time).
   */
  load: LoadSample;
  /** Controller intervals merged into this record (1 until compacted). */
  intervals: number;
  /** TTFT p90 measured over the interval, seconds; compacted: the max (an upper bound of the union's p90). */
  ttftP90Seconds?: number;
  tpotP90Seconds?: number;
  /** Fraction (0–1) of the interval's requests that met both SLOs; compacted: request-weighted mean. */
  attainment?: number;
}

export interface HistoryQuery {
  fromIso?: string;
  toIso?: string;
  /** Only the most recent N records (after the time filter). */
  last?: number;
}

/**
 * Flip state machine (docs/store.md). A flip is persisted `pending` before
 * the actuator is called, so a restart finds every flip that may have
 * started:
 *   pending → draining → switching → done
 *   any unfinished state → failed | rolled-back
 */
export type FlipState = 'pending' | 'draining' | 'switching' | 'done' | 'failed' | 'rolled-back';
export const FLIP_STATES: readonly FlipState[] = ['pending', 'draining', 'switching', 'done', 'failed', 'rolled-back'];
export const UNFINISHED_FLIP_STATES: readonly FlipState[] = ['pending', 'draining', 'switching'];

export interface FlipTransition {
  state: FlipState;
  atIso: string;
  message?: string;
}

export interface NewFlipRecord {
  change: RoleChange;
  /** The decision that started it, when there is one (a manual override has none). */
  decisionId?: number;
  atIso: string;
}

export interface FlipRecord {
  id: number;
  change: RoleChange;
  decisionId?: number;
  state: FlipState;
  createdIso: string;
  updatedIso: string;
  /** Every state entered, oldest first, starting with `pending`. */
  transitions: FlipTransition[];
}

export interface FlipQuery {
  workerId?: WorkerId;
  states?: readonly FlipState[];
  /** Most recent N (default DEFAULT_PAGE_LIMIT, at most MAX_PAGE_LIMIT); newest first. */
  limit?: number;
}

/** Who changed what configuration, and when (policy put, safety knobs, flags). */
export interface NewConfigRevisionRecord {
  atIso: string;
  /** Who made the change: a token name, `cli`, `system`. */
  actor: string;
  /** What was changed, e.g. `policy`, `safety`, `flags`, `override`. */
  kind: string;
  summary: string;
  before?: unknown;
  after?: unknown;
}

export interface ConfigRevisionRecord extends NewConfigRevisionRecord {
  id: number;
}

export interface ConfigRevisionQuery {
  kind?: string;
  limit?: number;
  cursor?: string;
}

/** One UTC day of operation, written by the daily summary job. */
export interface DailySummaryRecord {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  generatedIso: string;
  /** Decisions by status. */
  decisionsByStatus: Record<string, number>;
  /** Flips that finished that day, by final state. */
  flipsByState: Record<string, number>;
  requests: number;
  /** Request-weighted attainment of the day, when known. */
  attainment?: number;
  ttftP90MaxSeconds?: number;
  tpotP90MaxSeconds?: number;
}

/** A worker pinned to a role until `untilIso`; the controller neither moves it nor counts it as a candidate. */
export interface ManualOverride {
  workerId: WorkerId;
  role: Role;
  untilIso: string;
  setIso: string;
  actor: string;
  note?: string;
}

export interface ControllerFlags {
  paused: boolean;
  advisory: boolean;
  /** At most one per worker. */
  overrides: ManualOverride[];
}

/** Ages (seconds) after which records are dropped by `applyRetention`, and how history is compacted. */
export interface RetentionPolicy {
  decisionsMaxAgeSeconds: number;
  historyMaxAgeSeconds: number;
  /** Finished flips only: an unfinished flip is never dropped. */
  flipsMaxAgeSeconds: number;
  configRevisionsMaxAgeSeconds: number;
  dailySummariesMaxAgeSeconds: number;
  /** History records that started longer ago than this are merged into buckets… */
  historyCompactAfterSeconds: number;
  /** …of this many seconds, aligned to the Unix epoch. */
  historyBucketSeconds: number;
}

export interface RetentionReport {
  decisionsDropped: number;
  historyDropped: number;
  /** History records merged away by compaction (records before − records after). */
  historyMerged: number;
  flipsDropped: number;
  configRevisionsDropped: number;
  dailySummariesDropped: number;
  overridesExpired: number;
}

/**
 * Hard caps per collection: the backstop that keeps the document bounded
 * between retention runs (each write rewrites the whole document, so its
 * size is the cost of every write). When an append goes over a cap, the
 * oldest records go; unfinished flips are never dropped.
 */
export interface StoreLimits {
  maxDecisions: number;
  maxHistory: number;
  maxFlips: number;
  maxConfigRevisions: number;
  maxDailySummaries: number;
}

export interface Store {
  appendDecision(record: NewDecisionRecord): Promise<DecisionRecord>;
  decision(id: number): Promise<DecisionRecord | undefined>;
  decisions(query?: DecisionQuery): Promise<Page<DecisionRecord>>;

  appendHistory(record: LoadHistoryRecord): Promise<void>;
  /** Oldest first: the order the forecaster learns in. */
  history(query?: HistoryQuery): Promise<LoadHistoryRecord[]>;

  /** Persists a flip as `pending`; refuses (FlipConflictError) when the worker already has an unfinished flip. */
  createFlip(record: NewFlipRecord): Promise<FlipRecord>;
  /** Moves a flip along the state machine; refuses (FlipTransitionError) an illegal step. */
  advanceFlip(id: number, state: FlipState, atIso: string, message?: string): Promise<FlipRecord>;
  /** Unfinished flips (pending, draining, switching), oldest first: what a restart must resume or roll back. */
  pendingFlips(): Promise<FlipRecord[]>;
  flips(query?: FlipQuery): Promise<FlipRecord[]>;

  appendConfigRevision(record: NewConfigRevisionRecord): Promise<ConfigRevisionRecord>;
  configRevisions(query?: ConfigRevisionQuery): Promise<Page<ConfigRevisionRecord>>;

  /** Inserts or replaces the summary of `summary.day`. */
  putDailySummary(summary: DailySummaryRecord): Promise<void>;
  /** Oldest first; `fromDay`/`toDay` inclusive, `YYYY-MM-DD`. */
  dailySummaries(range?: { fromDay?: string; toDay?: string }): Promise<DailySummaryRecord[]>;

  /** The flags; with `nowIso`, overrides expired by then are left out. */
  flags(nowIso?: string): Promise<ControllerFlags>;
  setFlags(update: { paused?: boolean; advisory?: boolean }): Promise<ControllerFlags>;
  /** Sets the worker's override, replacing any earlier one for it. */
  putOverride(override: ManualOverride): Promise<void>;
  /** True when there was one to remove. */
  removeOverride(workerId: WorkerId): Promise<boolean>;

  /** Drops records older than the policy's ages (relative to `nowIso`) and compacts old history. */
  applyRetention(nowIso: string, policy?: Partial<RetentionPolicy>): Promise<RetentionReport>;

  /** Waits for queued writes, then refuses further calls. */
  close(): Promise<void>;
}

/** A second flip for a worker that has one unfinished: one flip at a time per worker. */
export class FlipConflictError extends Error {
  constructor(
    readonly workerId: WorkerId,
    readonly unfinishedFlipId: number,
  ) {
    super(`worker ${workerId} already has unfinished flip ${unfinishedFlipId}; one flip at a time per worker`);
    this.name = 'FlipConflictError';
  }
}

/** A step the flip state machine does not allow (e.g. from `done`, or `pending → switching`). */
export class FlipTransitionError extends Error {
  constructor(
    readonly flipId: number,
    readonly from: FlipState,
    readonly to: FlipState,
  ) {
    super(`flip ${flipId}: cannot go from ${from} to ${to}`);
    this.name = 'FlipTransitionError';
  }
}
