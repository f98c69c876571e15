import { InputError } from '../domain/errors.js';
import type { WorkerId } from '../domain/role.js';
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import {
  checkDailySummary,
  checkFlip,
  checkFlipTransition,
  checkHistory,
  checkNewConfigRevision,
  checkNewDecision,
  checkOverride,
  firstFault,
  type StoreDocument,
} from './document.js';
import { compactHistory, DEFAULT_LIMITS, DEFAULT_RETENTION, limitFaults, retentionFaults } from './retention.js';
import type {
  ConfigRevisionQuery,
  ConfigRevisionRecord,
  ControllerFlags,
  DailySummaryRecord,
  DecisionQuery,
  DecisionRecord,
  FlipQuery,
  FlipRecord,
  FlipState,
  HistoryQuery,
  LoadHistoryRecord,
  ManualOverride,
  NewConfigRevisionRecord,
  NewDecisionRecord,
  NewFlipRecord,
  Page,
  RetentionPolicy,
  RetentionReport,
  Store,
  StoreLimits,
} from './store.js';
import {
  DEFAULT_PAGE_LIMIT,
  FLIP_STATES,
  FlipConflictError,
  FlipTransitionError,
  MAX_PAGE_LIMIT,
  UNFINISHED_FLIP_STATES,
} from './store.js';

/**
 * Where a DocumentStore keeps its document. `save` must be atomic: after it
 * resolves or rejects, the persisted copy is either the old or the new
 * document, never a mix. `reload` returns the persisted copy.
 */
export interface Persistence {
  save(document: StoreDocument): Promise<void>;
  reload(): Promise<StoreDocument>;
}

export interface StoreOptions {
  limits?: Partial<StoreLimits>;
  /** Defaults for `applyRetention`; a policy passed to it overrides these key by key. */
  retention?: Partial<RetentionPolicy>;
}

/** Legal next states of each state (docs/store.md). */
const NEXT_FLIP_STATES: Readonly<Record<FlipState, readonly FlipState[]>> = {
  pending: ['draining', 'failed', 'rolled-back'],
  draining: ['switching', 'failed', 'rolled-back'],
  switching: ['done', 'failed', 'rolled-back'],
  done: [],
  failed: [],
  'rolled-back': [],
};

function isUnfinished(flip: FlipRecord): boolean {
  return UNFINISHED_FLIP_STATES.includes(flip.state);
}

/**
 * The one implementation of the Store's logic (queries, id assignment, flip
 * state machine, caps, retention) over an in-memory document; the lowdb and
 * memory stores differ only in their Persistence.
 *
 * Every call, read or write, runs in one promise queue, one at a time: a
 * write's change and its save complete before the next call starts, so
 * concurrent appends never interleave and a read sees every write issued
 * before it. Records are JSON-copied in and structured-cloned out, so no
 * caller shares an object with the document.
 */
export class DocumentStore implements Store {
  private document: StoreDocument;
  private readonly limits: StoreLimits;
  private readonly retention: RetentionPolicy;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Set when a failed save could not be undone by reloading: the document can no longer be trusted. */
  private broken: Error | undefined;

  constructor(
    document: StoreDocument,
    private readonly persistence: Persistence,
    private readonly name: string,
    options: StoreOptions = {},
  ) {
    this.document = document;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.retention = { ...DEFAULT_RETENTION, ...options.retention };
    const faults = [...limitFaults(this.limits), ...retentionFaults(this.retention)];
    if (faults.length > 0) throw new RangeError(`invalid store options: ${faults.join('; ')}`);
  }

  async appendDecision(record: NewDecisionRecord): Promise<DecisionRecord> {
    const copy = checked('decision', checkNewDecision, record);
    return this.write((doc) => {
      const stored: DecisionRecord = { ...copy, id: doc.nextIds.decision++ };
      doc.decisions.push(stored);
      dropOldest(doc.decisions, this.limits.maxDecisions);
      return stored;
    });
  }

  async decision(id: number): Promise<DecisionRecord | undefined> {
    return this.read((doc) => doc.decisions.find((d) => d.id === id));
  }

  async decisions(query: DecisionQuery = {}): Promise<Page<DecisionRecord>> {
    const limit = pageLimit(query.limit);
    const before = parseCursor(query.cursor);
    const fromMs = parseBound('fromIso', query.fromIso);
    const toMs = parseBound('toIso', query.toIso);
    const reasonCodes = query.reasonCodes && new Set(query.reasonCodes);
    const statuses = query.statuses && new Set(query.statuses);
    const matches = (d: DecisionRecord): boolean => {
      const atMs = Date.parse(d.atIso);
      if (fromMs !== undefined && atMs < fromMs) return false;
      if (toMs !== undefined && atMs >= toMs) return false;
      if (reasonCodes && !reasonCodes.has(d.reason.code)) return false;
      if (statuses && !statuses.has(d.status)) return false;
      if (query.applied !== undefined && wasApplied(d) !== query.applied) return false;
      if (query.held !== undefined && d.held.length > 0 !== query.held) return false;
      return true;
    };
    return this.read((doc) => newestFirstPage(doc.decisions, before, limit, matches));
  }

  async appendHistory(record: LoadHistoryRecord): Promise<void> {
    const copy = checked('history record', checkHistory, record);
    return this.write((doc) => {
      // Appends come in time order; an out-of-order one is placed by start time so compaction and `last` stay right.
      const startMs = Date.parse(copy.startIso);
      let at = doc.history.length;
      while (at > 0 && Date.parse((doc.history[at - 1] as LoadHistoryRecord).startIso) > startMs) at--;
      doc.history.splice(at, 0, copy);
      dropOldest(doc.history, this.limits.maxHistory);
    });
  }

  async history(query: HistoryQuery = {}): Promise<LoadHistoryRecord[]> {
    const fromMs = parseBound('fromIso', query.fromIso);
    const toMs = parseBound('toIso', query.toIso);
    if (query.last !== undefined && !(Number.isInteger(query.last) && query.last >= 0)) {
      throw new InputError('last', `must be a non-negative integer, got ${query.last}`);
    }
    return this.read((doc) => {
      const inRange = doc.history.filter((h) => {
        const startMs = Date.parse(h.startIso);
        return (fromMs === undefined || startMs >= fromMs) && (toMs === undefined || startMs < toMs);
      });
      return query.last === undefined ? inRange : inRange.slice(Math.max(0, inRange.length - query.last));
    });
  }

  async createFlip(record: NewFlipRecord): Promise<FlipRecord> {
    const { change, decisionId, atIso } = toJson(record);
    if (change.from === change.to) throw new RangeError(`flip of ${change.workerId}: from and to are both ${change.from}`);
    return this.write((doc) => {
      const unfinished = doc.flips.find((f) => f.change.workerId === change.workerId && isUnfinished(f));
      if (unfinished) throw new FlipConflictError(change.workerId, unfinished.id);
      const flip: FlipRecord = {
        id: doc.nextIds.flip,
        change,
        ...(decisionId !== undefined ? { decisionId } : {}),
        state: 'pending',
        createdIso: atIso,
        updatedIso: atIso,
        transitions: [{ state: 'pending', atIso }],
      };
      // Checked whole here (not field by field above) because the id and transitions are the store's own.
      const fault = firstFault(checkFlip, flip);
      if (fault) throw new RangeError(`invalid flip record: ${fault}`);
      doc.nextIds.flip++;
      doc.flips.push(flip);
      dropOldestFinishedFlips(doc.flips, this.limits.maxFlips);
      return flip;
    });
  }

  async advanceFlip(id: number, state: FlipState, atIso: string, message?: string): Promise<FlipRecord> {
    if (!FLIP_STATES.includes(state)) throw new RangeError(`flip ${id}: unknown state ${String(state)}`);
    const transition = { state, atIso, ...(message !== undefined ? { message } : {}) };
    const fault = firstFault(checkFlipTransition, transition);
    if (fault) throw new RangeError(`flip ${id}: invalid transition: ${fault}`);
    return this.write((doc) => {
      const flip = doc.flips.find((f) => f.id === id);
      if (!flip) throw new RangeError(`flip ${id} not found`);
      if (!NEXT_FLIP_STATES[flip.state].includes(state)) throw new FlipTransitionError(id, flip.state, state);
      flip.state = state;
      flip.updatedIso = atIso;
      flip.transitions.push(transition);
      return flip;
    });
  }

  async pendingFlips(): Promise<FlipRecord[]> {
    return this.read((doc) => doc.flips.filter(isUnfinished));
  }

  async flips(query: FlipQuery = {}): Promise<FlipRecord[]> {
    const limit = pageLimit(query.limit);
    const states = query.states && new Set(query.states);
    return this.read((doc) => {
      const out: FlipRecord[] = [];
      for (let i = doc.flips.length - 1; i >= 0 && out.length < limit; i--) {
        const flip = doc.flips[i] as FlipRecord;
        if (query.workerId !== undefined && flip.change.workerId !== query.workerId) continue;
        if (states && !states.has(flip.state)) continue;
        out.push(flip);
      }
      return out;
    });
  }

  async appendConfigRevision(record: NewConfigRevisionRecord): Promise<ConfigRevisionRecord> {
    const copy = checked('config revision', checkNewConfigRevision, record);
    return this.write((doc) => {
      const stored: ConfigRevisionRecord = { ...copy, id: doc.nextIds.configRevision++ };
      doc.configRevisions.push(stored);
      dropOldest(doc.configRevisions, this.limits.maxConfigRevisions);
      return stored;
    });
  }

  async configRevisions(query: ConfigRevisionQuery = {}): Promise<Page<ConfigRevisionRecord>> {
    const limit = pageLimit(query.limit);
    const before = parseCursor(query.cursor);
    return this.read((doc) =>
      newestFirstPage(doc.configRevisions, before, limit, (r) => query.kind === undefined || r.kind === query.kind),
    );
  }

  async putDailySummary(summary: DailySummaryRecord): Promise<void> {
    const copy = checked('daily summary', checkDailySummary, summary);
    return this.write((doc) => {
      const kept = doc.dailySummaries.filter((s) => s.day !== copy.day);
      kept.push(copy);
      // YYYY-MM-DD sorts as text in date order.
      kept.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
      dropOldest(kept, this.limits.maxDailySummaries);
      doc.dailySummaries = kept;
    });
  }

  async dailySummaries(range: { fromDay?: string; toDay?: string } = {}): Promise<DailySummaryRecord[]> {
    return this.read((doc) =>
      doc.dailySummaries.filter((s) => (range.fromDay === undefined || s.day >= range.fromDay) && (range.toDay === undefined || s.day <= range.toDay)),
    );
  }

  async flags(nowIso?: string): Promise<ControllerFlags> {
    const nowMs = parseBound('nowIso', nowIso);
    return this.read((doc) => ({
      ...doc.flags,
      overrides: nowMs === undefined ? doc.flags.overrides : doc.flags.overrides.filter((o) => Date.parse(o.untilIso) > nowMs),
    }));
  }

  async setFlags(update: { paused?: boolean; advisory?: boolean }): Promise<ControllerFlags> {
    for (const [key, value] of Object.entries(update)) {
      if ((key !== 'paused' && key !== 'advisory') || typeof value !== 'boolean') {
        throw new RangeError(`setFlags: ${key} must be paused or advisory with a boolean value`);
      }
    }
    return this.write((doc) => {
      if (update.paused !== undefined) doc.flags.paused = update.paused;
      if (update.advisory !== undefined) doc.flags.advisory = update.advisory;
      return doc.flags;
    });
  }

  async putOverride(override: ManualOverride): Promise<void> {
    const copy = checked('override', checkOverride, override);
    return this.write((doc) => {
      doc.flags.overrides = [...doc.flags.overrides.filter((o) => o.workerId !== copy.workerId), copy];
    });
  }

  async removeOverride(workerId: WorkerId): Promise<boolean> {
    return this.write((doc) => {
      const before = doc.flags.overrides.length;
      doc.flags.overrides = doc.flags.overrides.filter((o) => o.workerId !== workerId);
      return doc.flags.overrides.length < before;
    });
  }

  async applyRetention(nowIso: string, policy: Partial<RetentionPolicy> = {}): Promise<RetentionReport> {
    const nowMs = parseBound('nowIso', nowIso) as number;
    const p: RetentionPolicy = { ...this.retention, ...policy };
    const faults = retentionFaults(p);
    if (faults.length > 0) throw new RangeError(`invalid retention policy: ${faults.join('; ')}`);
    const olderThan = (iso: string, maxAgeSeconds: number) => Date.parse(iso) < nowMs - maxAgeSeconds * 1000;
    return this.write((doc) => {
      const counts = {
        decisions: doc.decisions.length,
        history: doc.history.length,
        flips: doc.flips.length,
        configRevisions: doc.configRevisions.length,
        dailySummaries: doc.dailySummaries.length,
        overrides: doc.flags.overrides.length,
      };
      doc.decisions = doc.decisions.filter((d) => !olderThan(d.atIso, p.decisionsMaxAgeSeconds));
      doc.history = doc.history.filter((h) => !olderThan(h.startIso, p.historyMaxAgeSeconds));
      const afterAge = doc.history.length;
      doc.history = compactHistory(doc.history, nowMs - p.historyCompactAfterSeconds * 1000, p.historyBucketSeconds);
      doc.flips = doc.flips.filter((f) => isUnfinished(f) || !olderThan(f.updatedIso, p.flipsMaxAgeSeconds));
      doc.configRevisions = doc.configRevisions.filter((r) => !olderThan(r.atIso, p.configRevisionsMaxAgeSeconds));
      doc.dailySummaries = doc.dailySummaries.filter((s) => !olderThan(`${s.day}T00:00:00.000Z`, p.dailySummariesMaxAgeSeconds));
      doc.flags.overrides = doc.flags.overrides.filter((o) => Date.parse(o.untilIso) > nowMs);
      return {
        decisionsDropped: counts.decisions - doc.decisions.length,
        historyDropped: counts.history - afterAge,
        historyMerged: afterAge - doc.history.length,
        flipsDropped: counts.flips - doc.flips.length,
        configRevisionsDropped: counts.configRevisions - doc.configRevisions.length,
        dailySummariesDropped: counts.dailySummaries - doc.dailySummaries.length,
        overridesExpired: counts.overrides - doc.flags.overrides.length,
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
  }

  /** Runs `fn` after every earlier call; its failure fails only its own caller. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`store ${this.name} is closed`));
    const run = this.queue.then(() => {
      if (this.broken) throw new Error(`store ${this.name} is unusable after a failed write: ${this.broken.message}`);
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private read<T>(fn: (doc: StoreDocument) => T): Promise<T> {
    return this.enqueue(async () => structuredClone(fn(this.document)));
  }

  /**
   * Applies `fn` to the document and saves it. If `fn` throws, nothing was
   * saved; callers' `fn`s check before they change anything, so the document
   * is unchanged too. If the save fails, the document is reloaded from the
   * persisted copy (atomic saves make that the last good state), so memory
   * never runs ahead of disk; if even that fails, the store refuses further calls.
   */
  private write<T>(fn: (doc: StoreDocument) => T): Promise<T> {
    return this.enqueue(async () => {
      const result = structuredClone(fn(this.document));
      try {
        await this.persistence.save(this.document);
      } catch (error) {
        try {
          this.document = await this.persistence.reload();
        } catch (reloadError) {
          this.broken = reloadError as Error;
        }
        throw new Error(`writing store ${this.name}: ${(error as Error).message}`, { cause: error });
      }
      return result;
    });
  }
}

/** A JSON copy of `value`: what the file will hold, so both backends store exactly what a restart would read back. */
function toJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The JSON copy of a record, checked against its schema. Checking the copy
 * catches what JSON would silently change (NaN and Infinity become null), so a
 * bad record fails its caller now rather than making the file unreadable at
 * the next start.
 */
function checked<T>(what: string, check: TypeCheck<TSchema>, record: T): T {
  const copy = toJson(record);
  const fault = firstFault(check, copy);
  if (fault) throw new RangeError(`invalid ${what}: ${fault}`);
  return copy;
}

/** Drops from the front (the oldest) down to `max` records. */
function dropOldest(records: unknown[], max: number): void {
  if (records.length > max) records.splice(0, records.length - max);
}

/** Like dropOldest, but unfinished flips are kept whatever the cap: a restart must find them. */
function dropOldestFinishedFlips(flips: FlipRecord[], max: number): void {
  let excess = flips.length - max;
  for (let i = 0; i < flips.length && excess > 0; ) {
    if (isUnfinished(flips[i] as FlipRecord)) {
      i++;
    } else {
      flips.splice(i, 1);
      excess--;
    }
  }
}

/** True when at least one change was handed to the actuator and it started or finished it. */
function wasApplied(decision: DecisionRecord): boolean {
  return decision.applied.some((a) => a.outcome === 'started' || a.outcome === 'done');
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new InputError('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${limit}`);
  }
  return limit;
}

/** A cursor is the id of the last item of the previous page; the next page holds smaller ids. */
function parseCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  if (!/^[1-9]\d{0,15}$/.test(cursor)) throw new InputError('cursor', `not a cursor returned by a previous page: ${JSON.stringify(cursor)}`);
  return Number(cursor);
}

function parseBound(key: string, iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new InputError(key, `not a date-time: ${JSON.stringify(iso)}`);
  return ms;
}

/** Walks `records` (id ascending) from the newest, below `beforeId`, keeping `limit` matches and saying whether more exist. */
function newestFirstPage<T extends { id: number }>(
  records: readonly T[],
  beforeId: number | undefined,
  limit: number,
  matches: (record: T) => boolean,
): Page<T> {
  const items: T[] = [];
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i] as T;
    if (beforeId !== undefined && record.id >= beforeId) continue;
    if (!matches(record)) continue;
    if (items.length === limit) return { items, nextCursor: String((items[limit - 1] as T).id) };
    items.push(record);
  }
  return { items };
}
