import { InputError } from '../domain/errors.js';
import type { LoadSample } from '../domain/load.js';
import { isRole, otherRole, type Role, type WorkerId } from '../domain/role.js';
import type { Slo } from '../domain/slo.js';
import type { Forecaster } from '../forecast/forecaster.js';
import type { Clock } from '../lib/clock.js';
import type { Profile } from '../perf/profile.js';
import type { Policy } from '../policy/policy.js';
import type { ControllerFlags, DecisionRecord, LoadHistoryRecord, ManualOverride, Store } from '../store/store.js';
import { Controller } from './controller.js';
import type { Decision } from './decision.js';
import { FlipExecutor, type FlipListener, type RecoveryAction, type WallClock } from './flip-executor.js';
import { onNominalIntervals, type LoadSource } from './interval-load-meter.js';
import { LiveFleetObserver, type ObservedWorker, type WorkerObservation } from './live-fleet-observer.js';
import type { SafetyConfig } from './safety.js';
import { SwitchableForecaster, SwitchablePolicy } from './switchable.js';

/** Makes a policy from a name and parameters; throws InputError on an unknown name or bad parameters (the policy registry). */
export type PolicyFactory = (name: string, params: Record<string, unknown>) => Policy;

export interface PolicySetting {
  name: string;
  params: Record<string, unknown>;
}

export interface ControllerServiceDeps {
  clock: Clock;
  wallClock: WallClock;
  store: Store;
  workers: readonly ObservedWorker[];
  load: LoadSource;
  policy: PolicySetting;
  createPolicy: PolicyFactory;
  forecaster: Forecaster;
  profile: Profile;
  slo: Slo;
  intervalSeconds: number;
  safety?: Partial<SafetyConfig>;
  drainTimeoutSeconds: number;
  /** Config `controller.advisory`: forces advisory on at start (a dry-run deployment stays dry across restarts). */
  advisory?: boolean;
  /** Intervals of stored history replayed into the forecaster at start (default 360). */
  warmIntervals?: number;
  onError?: (message: string) => void;
  /** Told when each flip starts and finishes (the router's fleet view, live). */
  onFlip?: FlipListener;
}

export interface ControllerStatus {
  paused: boolean;
  advisory: boolean;
  policy: PolicySetting;
  /** A policy put through the API that takes effect at the next reconcile. */
  pendingPolicy?: PolicySetting;
  forecaster: string;
  intervalSeconds: number;
  overrides: ManualOverride[];
  lastDecision?: DecisionRecord;
  /** What the restart recovery did with the flips it found unfinished. */
  recovered: RecoveryAction[];
}

/**
 * The live controller: the pure Controller plus everything that makes it a
 * service — the flags that survive restarts (pause, advisory, manual
 * overrides), the flip executor, restart recovery, the decision and history
 * records, warm start, and policy changes at the interval boundary. It holds
 * no timer: `tick()` runs one interval and returns the decision, whose
 * `nextAtSeconds` the driver (src/jobs/controller-loop.ts) sleeps until.
 */
export class ControllerService {
  readonly executor: FlipExecutor;
  readonly observer: LiveFleetObserver;
  private readonly controller: Controller;
  private readonly policy: SwitchablePolicy;
  private readonly forecaster: SwitchableForecaster;
  private policySetting: PolicySetting;
  private pendingPolicy: { setting: PolicySetting; policy: Policy } | undefined;
  private flags: ControllerFlags = { paused: false, advisory: false, overrides: [] };
  private lastDecision: DecisionRecord | undefined;
  private recovered: RecoveryAction[] = [];
  private readonly workerIds: Set<WorkerId>;

  constructor(private readonly deps: ControllerServiceDeps) {
    this.policySetting = deps.policy;
    this.policy = new SwitchablePolicy(deps.createPolicy(deps.policy.name, deps.policy.params));
    this.forecaster = new SwitchableForecaster(deps.forecaster);
    this.workerIds = new Set(deps.workers.map((w) => w.id));
    this.executor = new FlipExecutor({
      store: deps.store,
      clock: deps.clock,
      wallClock: deps.wallClock,
      workers: deps.workers,
      drainTimeoutSeconds: deps.drainTimeoutSeconds,
      ...(deps.onError ? { onError: deps.onError } : {}),
      ...(deps.onFlip ? { onFlip: deps.onFlip } : {}),
    });
    this.observer = new LiveFleetObserver({
      clock: deps.clock,
      workers: deps.workers,
      load: deps.load,
      intervalSeconds: deps.intervalSeconds,
      lastFlipAtSeconds: (id) => this.executor.lastFlipAtSeconds(id),
    });
    this.controller = new Controller({
      clock: deps.clock,
      observer: this.observer,
      actuator: this.executor,
      policy: this.policy,
      forecaster: this.forecaster,
      profile: deps.profile,
      slo: deps.slo,
      intervalSeconds: deps.intervalSeconds,
      ...(deps.safety ? { safety: deps.safety } : {}),
      historyLength: deps.warmIntervals ?? 360,
    });
  }

  get intervalSeconds(): number {
    return this.deps.intervalSeconds;
  }

  /**
   * Restores what a restart must not lose, before the first reconcile:
   * flags, forecaster history, cooldowns, and the unfinished flips
   * (resumed or rolled back per docs/store.md).
   */
  async start(): Promise<void> {
    if (this.deps.advisory) await this.deps.store.setFlags({ advisory: true });
    await this.loadFlags();
    const nowIso = this.deps.wallClock.nowIso();
    const history = await this.deps.store.history({ last: this.deps.warmIntervals ?? 360, toIso: nowIso });
    this.controller.warm(this.onControllerClock(history));
    await this.executor.seedFromStore();
    this.recovered = await this.executor.recover();
    this.lastDecision = (await this.deps.store.decisions({ limit: 1 })).items[0];
    await this.observer.refresh();
  }

  /**
   * One interval: apply flags and a pending policy, settle orphaned flips,
   * enforce manual overrides, reconcile, record the decision and the
   * interval's load. Errors of the policy propagate (the driver logs them
   * and tries again next interval); the load is recorded either way.
   */
  async tick(): Promise<Decision> {
    await this.loadFlags();
    if (this.pendingPolicy) {
      this.policy.replace(this.pendingPolicy.policy);
      this.policySetting = this.pendingPolicy.setting;
      this.pendingPolicy = undefined;
    }
    await this.executor.recover();
    await this.enforceOverrides();
    try {
      const decision = await this.controller.reconcileOnce();
      // The controller saw the load rescaled to the nominal interval (for the forecasters); the record keeps what was measured.
      const measured = this.observer.last?.interval.load;
      const inputs = decision.inputs && measured ? { ...decision.inputs, load: measured } : decision.inputs;
      this.lastDecision = await this.deps.store.appendDecision({
        ...decision,
        ...(inputs ? { inputs } : {}),
        atIso: this.isoAt(decision.atSeconds),
        advisory: this.flags.advisory,
      });
      return decision;
    } finally {
      await this.recordHistory();
    }
  }

  status(): ControllerStatus {
    return {
      paused: this.flags.paused,
      advisory: this.flags.advisory,
      policy: this.policySetting,
      ...(this.pendingPolicy ? { pendingPolicy: this.pendingPolicy.setting } : {}),
      forecaster: this.forecaster.name,
      intervalSeconds: this.deps.intervalSeconds,
      overrides: this.flags.overrides,
      ...(this.lastDecision ? { lastDecision: this.lastDecision } : {}),
      recovered: this.recovered,
    };
  }

  /** The newest reading of each worker: read at start, then at every tick. */
  fleet(): readonly WorkerObservation[] {
    return this.observer.workers;
  }

  hasWorker(workerId: WorkerId): boolean {
    return this.workerIds.has(workerId);
  }

  async setPaused(paused: boolean, actor: string): Promise<ControllerFlags> {
    return this.changeFlags({ paused }, actor, paused ? 'paused the controller' : 'resumed the controller');
  }

  async setAdvisory(advisory: boolean, actor: string): Promise<ControllerFlags> {
    return this.changeFlags({ advisory }, actor, advisory ? 'advisory mode on' : 'advisory mode off');
  }

  /** Pins a worker to a role until `expiresInSeconds` from now; persisted, so it outlives a restart. */
  async putOverride(request: { workerId: WorkerId; role: Role; expiresInSeconds: number; note?: string }, actor: string): Promise<ManualOverride> {
    if (!this.workerIds.has(request.workerId)) throw new InputError('worker', `no worker ${JSON.stringify(request.workerId)} in the fleet`);
    if (!isRole(request.role)) throw new InputError('role', `must be prefill or decode, got ${JSON.stringify(request.role)}`);
    if (!(request.expiresInSeconds > 0)) throw new InputError('expiresInSeconds', `must be > 0, got ${request.expiresInSeconds}`);
    const nowIso = this.deps.wallClock.nowIso();
    const override: ManualOverride = {
      workerId: request.workerId,
      role: request.role,
      untilIso: new Date(Date.parse(nowIso) + request.expiresInSeconds * 1000).toISOString(),
      setIso: nowIso,
      actor,
      ...(request.note ? { note: request.note } : {}),
    };
    const before = this.flags.overrides.find((o) => o.workerId === request.workerId);
    await this.deps.store.putOverride(override);
    await this.deps.store.appendConfigRevision({ atIso: nowIso, actor, kind: 'override', summary: `pinned ${override.workerId} to ${override.role} until ${override.untilIso}`, ...(before ? { before } : {}), after: override });
    await this.loadFlags();
    return override;
  }

  async removeOverride(workerId: WorkerId, actor: string): Promise<boolean> {
    const before = this.flags.overrides.find((o) => o.workerId === workerId);
    const removed = await this.deps.store.removeOverride(workerId);
    if (removed) {
      await this.deps.store.appendConfigRevision({ atIso: this.deps.wallClock.nowIso(), actor, kind: 'override', summary: `removed the override of ${workerId}`, ...(before ? { before } : {}) });
    }
    await this.loadFlags();
    return removed;
  }

  /**
   * Validates a policy (the registry throws InputError on an unknown name or
   * bad parameters, and nothing changes) and records the revision; it takes
   * effect at the next reconcile, so one interval is decided by one policy.
   */
  async setPolicy(setting: PolicySetting, actor: string): Promise<PolicySetting> {
    const policy = this.deps.createPolicy(setting.name, setting.params);
    await this.deps.store.appendConfigRevision({
      atIso: this.deps.wallClock.nowIso(),
      actor,
      kind: 'policy',
      summary: `policy ${this.policySetting.name} → ${setting.name} (from the next interval)`,
      before: this.policySetting,
      after: setting,
    });
    this.pendingPolicy = { setting, policy };
    return setting;
  }

  /** Replaces the forecaster by one already trained on the stored history (the refit job). */
  replaceForecaster(forecaster: Forecaster): void {
    this.forecaster.replace(forecaster);
  }

  /**
   * Stored history records as forecaster samples on this run's controller
   * clock, oldest first, spread over nominal intervals (a compacted record
   * of ten intervals becomes ten samples at its mean rate).
   */
  onControllerClock(records: readonly LoadHistoryRecord[]): LoadSample[] {
    const nowSeconds = this.deps.clock.nowSeconds();
    const nowMs = Date.parse(this.deps.wallClock.nowIso());
    return records.flatMap((r) => onNominalIntervals({ ...r.load, startSeconds: nowSeconds - (nowMs - Date.parse(r.startIso)) / 1000 }, this.deps.intervalSeconds));
  }

  /** Waits for flips in progress (stop). */
  async idle(): Promise<void> {
    await this.executor.idle();
  }

  private async changeFlags(update: { paused?: boolean; advisory?: boolean }, actor: string, summary: string): Promise<ControllerFlags> {
    const before = { paused: this.flags.paused, advisory: this.flags.advisory };
    const flags = await this.deps.store.setFlags(update);
    await this.deps.store.appendConfigRevision({ atIso: this.deps.wallClock.nowIso(), actor, kind: 'flags', summary, before, after: { paused: flags.paused, advisory: flags.advisory } });
    await this.loadFlags();
    return this.flags;
  }

  private async loadFlags(): Promise<void> {
    this.flags = await this.deps.store.flags(this.deps.wallClock.nowIso());
    this.controller.setPaused(this.flags.paused);
    this.controller.setAdvisory(this.flags.advisory);
    this.controller.setPinned(this.flags.overrides.map((o) => o.workerId));
  }

  /**
   * Puts overridden workers into their pinned role, one flip each, through
   * the same executor (persisted, re-validated, verified). Not in advisory
   * mode, which promises that nothing is flipped; pause stops the
   * controller's own decisions, not an operator's explicit override.
   */
  private async enforceOverrides(): Promise<void> {
    if (this.flags.advisory) return;
    const seen = new Map(this.observer.workers.map((w) => [w.snapshot.id, w.snapshot]));
    for (const override of this.flags.overrides) {
      const worker = seen.get(override.workerId);
      if (!worker || worker.status !== 'ready' || worker.role === override.role || this.executor.isFlipping(override.workerId)) continue;
      const result = await this.executor.start({
        workerId: override.workerId,
        from: otherRole(override.role),
        to: override.role,
        reason: { code: 'manual-override', message: `pinned to ${override.role} by ${override.actor} until ${override.untilIso}` },
      });
      if (result.outcome !== 'started') this.deps.onError?.(`manual override of ${override.workerId}: ${result.message ?? result.outcome}`);
    }
  }

  private async recordHistory(): Promise<void> {
    const last = this.observer.last;
    if (!last || !(last.interval.load.intervalSeconds > 0)) return;
    const { load, ttftP90Seconds, tpotP90Seconds, attainment } = last.interval;
    await this.deps.store.appendHistory({
      startIso: this.isoAt(load.startSeconds),
      load,
      intervals: 1,
      ...(ttftP90Seconds === undefined ? {} : { ttftP90Seconds }),
      ...(tpotP90Seconds === undefined ? {} : { tpotP90Seconds }),
      ...(attainment === undefined ? {} : { attainment }),
    });
  }

  /** The wall-clock instant of a controller-clock time of this run. */
  private isoAt(seconds: number): string {
    const nowMs = Date.parse(this.deps.wallClock.nowIso());
    return new Date(nowMs - (this.deps.clock.nowSeconds() - seconds) * 1000).toISOString();
  }
}
