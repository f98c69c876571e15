import type { RoleChange } from '../../src/domain/decision.js';
import type { WorkerSnapshot } from '../../src/domain/fleet.js';
import { idleSample, type LoadSample } from '../../src/domain/load.js';
import type { Role } from '../../src/domain/role.js';
import type { Clock } from '../../src/lib/clock.js';
import type { ActuationResult, Actuator, FleetObserver, Observation } from '../../src/control/ports.js';

/**
 * A fleet held in memory: the FleetObserver and the Actuator the controller
 * tests drive (a fake, not a mock: it behaves like a small fleet). A flip
 * puts the worker into `draining` with its old role; `finishFlips` completes
 * every flip in progress, as the simulator would after the drain.
 */
export class FakeFleet implements FleetObserver, Actuator {
  workers: WorkerSnapshot[];
  load: LoadSample;
  synced = true;
  failObserve: string | undefined;
  refuse = new Set<string>();
  applied: RoleChange[] = [];
  private flipping = new Map<string, Role>();

  constructor(
    private readonly clock: Clock,
    roles: Role[],
  ) {
    this.workers = roles.map((role, i) => worker(`w${i}`, role));
    this.load = idleSample(0, 60);
  }

  async observe(): Promise<Observation> {
    if (this.failObserve) throw new Error(this.failObserve);
    return {
      snapshot: { atSeconds: this.clock.nowSeconds(), workers: this.workers.map((w) => ({ ...w })) },
      load: this.load,
      ...(this.synced ? {} : { synced: false }),
    };
  }

  async apply(changes: readonly RoleChange[]): Promise<ActuationResult[]> {
    return changes.map((change) => {
      if (this.refuse.has(change.workerId)) return { change, outcome: 'refused', message: 'refused by the fake' };
      this.applied.push(change);
      this.flipping.set(change.workerId, change.to);
      this.set(change.workerId, { status: 'draining' });
      return { change, outcome: 'started' };
    });
  }

  finishFlips(): void {
    for (const [id, to] of this.flipping) this.set(id, { role: to, status: 'ready', lastFlipAtSeconds: this.clock.nowSeconds() });
    this.flipping.clear();
  }

  set(id: string, patch: Partial<WorkerSnapshot>): void {
    this.workers = this.workers.map((w) => (w.id === id ? { ...w, ...patch } : w));
  }

  count(role: Role): number {
    return this.workers.filter((w) => w.role === role).length;
  }
}

export function worker(id: string, role: Role, patch: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return { id, role, status: 'ready', queuedRequests: 0, queuedTokens: 0, runningRequests: 0, kvUsage: 0, ...patch };
}
