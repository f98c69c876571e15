import type { WorkerReading, WorkerSnapshot } from '../domain/fleet.js';
import type { Role, WorkerId } from '../domain/role.js';
import type { Clock } from '../lib/clock.js';
import { idleSample } from '../domain/load.js';
import { onNominalIntervals, type IntervalLoad, type LoadSource } from './interval-load-meter.js';
import type { FleetObserver, Observation } from './ports.js';

export type { WorkerReading } from '../domain/fleet.js';


/**
 * A worker as the live controller sees it: read its state, switch its role.
 * Implemented outside control/ for each engine (src/fleet/adapters/: native
 * worker protocol, vLLM, SGLang); each implementation bounds its own calls
 * in time, since control/ holds no timers.
 */
export interface ObservedWorker {
  readonly id: WorkerId;
  /** The worker's current state; rejects when it cannot be read. */
  read(): Promise<WorkerReading>;
  /** Drains, then switches to `role`; resolves once the worker says the switch is done, rejects when it refused or failed. */
  switchRole(role: Role, drainTimeoutSeconds: number): Promise<void>;
}

export interface LiveFleetObserverDeps {
  clock: Clock;
  workers: readonly ObservedWorker[];
  load: LoadSource;
  /** The controller's interval: the load handed on is rescaled to it (see onNominalIntervals). */
  intervalSeconds: number;
  /** Controller-clock time of each worker's last finished flip, when known (the flip executor keeps it). */
  lastFlipAtSeconds?: (workerId: WorkerId) => number | undefined;
}

/** What the last scrape of one worker gave, for the admin API's per-worker view. */
export interface WorkerObservation {
  snapshot: WorkerSnapshot;
  /** Why the worker is stale, when it is. */
  error?: string;
}

/**
 * The live FleetObserver: every interval, close the load interval, then read
 * every worker in parallel. A worker whose read fails is marked `stale` with
 * the role it last reported and zero figures (the controller neither counts
 * nor moves a stale worker, so the figures are never used as if measured).
 * A worker never read successfully has no role to report; until each worker
 * has been read once the view is incomplete and the observation says
 * `synced: false`, so the controller makes no decision (Karpenter: do
 * nothing until synced).
 */
export class LiveFleetObserver implements FleetObserver {
  private readonly lastRole = new Map<WorkerId, Role>();
  private latest: { interval: IntervalLoad; workers: WorkerObservation[]; atSeconds: number } | undefined;
  private newest: readonly WorkerObservation[] = [];

  constructor(private readonly deps: LiveFleetObserverDeps) {}

  /** The last observation's per-worker view and interval load, for status pages and the history record. */
  get last(): { interval: IntervalLoad; workers: readonly WorkerObservation[]; atSeconds: number } | undefined {
    return this.latest;
  }

  /** The newest per-worker view: from the last observation, or from `refresh` before the first. */
  get workers(): readonly WorkerObservation[] {
    return this.newest;
  }

  /**
   * Reads every worker without closing the load interval or deciding
   * anything, so that status pages show the fleet from the start instead of
   * an empty one until the first reconcile, one interval later.
   */
  async refresh(): Promise<void> {
    this.newest = (await this.readWorkers()).workers;
  }

  async observe(): Promise<Observation> {
    // The load interval is closed first so that a slow scrape does not shift arrivals into the next interval.
    const interval = this.deps.load.takeInterval(this.deps.clock.nowSeconds());
    const { workers, synced } = await this.readWorkers();
    const atSeconds = this.deps.clock.nowSeconds();
    this.latest = { interval, workers, atSeconds };
    this.newest = workers;
    // One sample per reconcile at the measured rate; the measured interval itself goes to the history record.
    const load = onNominalIntervals(interval.load, this.deps.intervalSeconds)[0] ?? idleSample(interval.load.startSeconds, this.deps.intervalSeconds);
    return {
      snapshot: { atSeconds, workers: workers.map((w) => w.snapshot) },
      load,
      ...(synced ? {} : { synced: false }),
    };
  }

  private async readWorkers(): Promise<{ workers: WorkerObservation[]; synced: boolean }> {
    const results = await Promise.allSettled(this.deps.workers.map((w) => w.read()));
    let synced = true;
    const workers: WorkerObservation[] = [];
    this.deps.workers.forEach((worker, i) => {
      const result = results[i] as PromiseSettledResult<WorkerReading>;
      const lastFlipAtSeconds = this.deps.lastFlipAtSeconds?.(worker.id);
      const flip = lastFlipAtSeconds === undefined ? {} : { lastFlipAtSeconds };
      if (result.status === 'fulfilled') {
        this.lastRole.set(worker.id, result.value.role);
        workers.push({ snapshot: { id: worker.id, ...result.value, ...flip } });
        return;
      }
      const error = result.reason instanceof Error ? result.reason.message : String(result.reason);
      const role = this.lastRole.get(worker.id);
      if (role === undefined) {
        synced = false;
        return;
      }
      workers.push({
        snapshot: { id: worker.id, role, status: 'stale', queuedRequests: 0, queuedTokens: 0, runningRequests: 0, kvUsage: 0, ...flip },
        error,
      });
    });
    return { workers, synced };
  }
}
