import type { RoleChange } from '../domain/decision.js';
import type { WorkerId } from '../domain/role.js';
import type { Clock } from '../lib/clock.js';
import { FlipConflictError, type FlipRecord, type FlipState, type Store } from '../store/store.js';
import type { ObservedWorker, WorkerReading } from './live-fleet-observer.js';
import type { ActuationResult, Actuator } from './ports.js';

/**
 * Wall-clock instants for the store's `…Iso` fields. Injected like the Clock
 * (control/ never reads a clock itself); live it is `new Date().toISOString()`.
 */
export interface WallClock {
  nowIso(): string;
}

export interface FlipExecutorDeps {
  store: Store;
  clock: Clock;
  wallClock: WallClock;
  workers: readonly ObservedWorker[];
  /** Longest drain a worker is given before the switch counts as failed (config controller.drainTimeoutSeconds). */
  drainTimeoutSeconds: number;
  /** Where failures of background flips are reported (they have no caller to reject). */
  onError?: (message: string) => void;
  /** Told when a flip is about to touch a worker and when it is over; see FlipListener. */
  onFlip?: FlipListener;
}

/**
 * Who else must know that a worker is being flipped: the router, which
 * should stop sending new work to a worker the moment its drain is asked
 * for rather than at its next poll of the worker's state (a request routed
 * there in between would only be handed back). `started` comes after the
 * flip is persisted and before the worker is asked to drain; `finished`
 * comes once for every `started`, whatever the outcome (done, failed, or
 * left for recovery), so a listener never holds a worker out forever.
 */
export interface FlipListener {
  started(change: RoleChange): void;
  finished(change: RoleChange, state: FlipState): void;
}

/** What `recover` did with each unfinished flip it found. */
export interface RecoveryAction {
  flipId: number;
  workerId: WorkerId;
  action: 'done' | 'rolled-back' | 'failed' | 'left';
  message: string;
}

/**
 * The Actuator of the live controller (Karpenter: planning returns commands,
 * a separate executor carries them out). Each flip runs
 *
 *   re-validate → persist `pending` → `draining` → switch → `switching` → verify → `done` | `failed`
 *
 * Order matters:
 * - the plan is re-validated against a fresh read of the worker before
 *   anything is written: the snapshot the plan came from may be an interval old;
 * - `pending` is persisted before the worker is touched, so a crash at any
 *   later point leaves a record that `recover` finds after the restart;
 * - `done` is written only after the worker's state has been read back in
 *   the new role: a switch call that returned is not proof it took effect.
 *
 * `apply` returns once each flip is persisted and started; the drain runs in
 * the background (it may take longer than an interval). One flip at a time
 * per worker is enforced twice: here (a worker with a flip in progress is
 * refused) and by the store (FlipConflictError, also across restarts).
 */
export class FlipExecutor implements Actuator {
  private readonly running = new Map<WorkerId, Promise<void>>();
  private readonly finishedAt = new Map<WorkerId, number>();
  private readonly byId: Map<WorkerId, ObservedWorker>;

  constructor(private readonly deps: FlipExecutorDeps) {
    this.byId = new Map(deps.workers.map((w) => [w.id, w]));
  }

  /** Controller-clock time the worker's last flip finished (done), for the cooldown. */
  lastFlipAtSeconds(workerId: WorkerId): number | undefined {
    return this.finishedAt.get(workerId);
  }

  /**
   * Seeds the cooldown after a restart from the store's finished flips:
   * their wall-clock times are mapped onto this run's controller clock.
   */
  async seedFromStore(): Promise<void> {
    const nowSeconds = this.deps.clock.nowSeconds();
    const nowMs = Date.parse(this.deps.wallClock.nowIso());
    for (const flip of await this.deps.store.flips({ states: ['done'], limit: 1000 })) {
      const at = nowSeconds - (nowMs - Date.parse(flip.updatedIso)) / 1000;
      const id = flip.change.workerId;
      if ((this.finishedAt.get(id) ?? -Infinity) < at) this.finishedAt.set(id, at);
    }
  }

  isFlipping(workerId: WorkerId): boolean {
    return this.running.has(workerId);
  }

  /** Resolves when every flip started so far has finished (stop, tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  async apply(changes: readonly RoleChange[]): Promise<ActuationResult[]> {
    const results: ActuationResult[] = [];
    for (const change of changes) results.push(await this.start(change));
    return results;
  }

  /** Starts one flip, with or without a decision behind it (a manual override has none). */
  async start(change: RoleChange, decisionId?: number): Promise<ActuationResult> {
    const worker = this.byId.get(change.workerId);
    if (!worker) return { change, outcome: 'refused', message: `no worker ${change.workerId} in the fleet` };
    if (this.running.has(change.workerId)) return { change, outcome: 'refused', message: `${change.workerId} is mid-flip; one flip at a time per worker` };
    let reading: WorkerReading;
    try {
      reading = await worker.read();
    } catch (error) {
      return { change, outcome: 'refused', message: `re-validating before the flip: ${messageOf(error)}` };
    }
    if (reading.role !== change.from || reading.status !== 'ready') {
      return { change, outcome: 'refused', message: `re-validating before the flip: ${change.workerId} is ${reading.status} as ${reading.role}, the plan expected ready as ${change.from}` };
    }
    let flip: FlipRecord;
    try {
      flip = await this.deps.store.createFlip({ change, atIso: this.deps.wallClock.nowIso(), ...(decisionId === undefined ? {} : { decisionId }) });
    } catch (error) {
      if (error instanceof FlipConflictError) return { change, outcome: 'refused', message: error.message };
      // Not persisted means not started: acting on a flip a restart could not find is what the store is there to prevent.
      return { change, outcome: 'failed', message: `persisting the flip before acting: ${messageOf(error)}` };
    }
    this.deps.onFlip?.started(change);
    this.track(change.workerId, this.run(flip, worker), () => this.deps.onFlip?.finished(change, flip.state));
    return { change, outcome: 'started', message: `flip ${flip.id} started` };
  }

  /**
   * Settles unfinished flips this process is not running: after a restart,
   * every flip the store holds; later, flips left for a worker that was
   * stale or still draining. Each worker is read again first (plans are
   * re-validated, never replayed blindly); the table in docs/store.md:
   * - ready in the new role → `done` (the switch happened before the restart);
   * - ready in the old role → `rolled-back`: the drain never started or was
   *   abandoned; the next reconcile decides afresh whether it still wants it;
   * - draining or switching → left: the worker is finishing the switch on its
   *   own, unless it has been at it longer than the drain timeout → `failed`;
   * - unreadable or gone → left unfinished: we cannot see how it went.
   */
  async recover(): Promise<RecoveryAction[]> {
    const actions: RecoveryAction[] = [];
    for (const flip of await this.deps.store.pendingFlips()) {
      const { workerId } = flip.change;
      if (this.running.has(workerId)) continue;
      const worker = this.byId.get(workerId);
      if (!worker) {
        actions.push({ flipId: flip.id, workerId, action: 'left', message: `${workerId} is not in the fleet; left unfinished` });
        continue;
      }
      let reading: WorkerReading;
      try {
        reading = await worker.read();
      } catch (error) {
        actions.push({ flipId: flip.id, workerId, action: 'left', message: `cannot read ${workerId}: ${messageOf(error)}; left unfinished` });
        continue;
      }
      actions.push(await this.settle(flip, reading));
    }
    return actions;
  }

  private async settle(flip: FlipRecord, reading: WorkerReading): Promise<RecoveryAction> {
    const { workerId, from, to } = flip.change;
    const act = async (action: RecoveryAction['action'], message: string, steps: FlipState[]): Promise<RecoveryAction> => {
      for (const state of steps) await this.advance(flip, state, message);
      return { flipId: flip.id, workerId, action, message };
    };
    if (reading.status === 'ready' && reading.role === to) {
      this.finishedAt.set(workerId, this.deps.clock.nowSeconds());
      return act('done', `found ready as ${to} after the restart`, stepsToDone(flip.state));
    }
    if (reading.status === 'ready' && reading.role === from) {
      return act('rolled-back', flip.state === 'pending' ? 'not started before the restart' : `found ready as ${from} again; the switch did not happen`, ['rolled-back']);
    }
    const ageSeconds = (Date.parse(this.deps.wallClock.nowIso()) - Date.parse(flip.updatedIso)) / 1000;
    if (ageSeconds > this.deps.drainTimeoutSeconds) {
      return act('failed', `${workerId} still ${reading.status} ${ageSeconds.toFixed(0)} s after the flip's last step (drain timeout ${this.deps.drainTimeoutSeconds} s)`, ['failed']);
    }
    return { flipId: flip.id, workerId, action: 'left', message: `${workerId} is ${reading.status}; waiting for it` };
  }

  private async run(flip: FlipRecord, worker: ObservedWorker): Promise<void> {
    const { to } = flip.change;
    await this.advance(flip, 'draining');
    try {
      await worker.switchRole(to, this.deps.drainTimeoutSeconds);
    } catch (error) {
      // The call failing is not proof the switch failed (the connection may have dropped after the worker switched): read back.
      const after = await worker.read().catch(() => undefined);
      if (after?.role === to && after.status === 'ready') {
        await this.finish(flip, worker.id, 'switch call failed, but the worker reports the new role');
      } else {
        await this.advance(flip, 'failed', `switching ${worker.id} to ${to}: ${messageOf(error)}`);
      }
      return;
    }
    await this.advance(flip, 'switching');
    let after: WorkerReading;
    try {
      after = await worker.read();
    } catch (error) {
      // Unreadable right after the switch: leave it `switching`; recover() settles it once the worker answers.
      this.deps.onError?.(`verifying flip ${flip.id} of ${worker.id}: ${messageOf(error)}; will settle it when the worker answers`);
      return;
    }
    if (after.role === to && after.status === 'ready') await this.finish(flip, worker.id);
    else if (after.role === to) this.deps.onError?.(`flip ${flip.id}: ${worker.id} is ${after.status} as ${to}; will settle it when it is ready`);
    else await this.advance(flip, 'failed', `${worker.id} reports ${after.role} after switching to ${to}`);
  }

  private async finish(flip: FlipRecord, workerId: WorkerId, message?: string): Promise<void> {
    if (flip.state === 'draining') await this.advance(flip, 'switching');
    await this.advance(flip, 'done', message);
    this.finishedAt.set(workerId, this.deps.clock.nowSeconds());
  }

  private async advance(flip: FlipRecord, state: FlipState, message?: string): Promise<void> {
    const updated = await this.deps.store.advanceFlip(flip.id, state, this.deps.wallClock.nowIso(), message);
    flip.state = updated.state;
    flip.updatedIso = updated.updatedIso;
  }

  private track(workerId: WorkerId, work: Promise<void>, onSettled: () => void): void {
    const tracked = work
      .catch((error: unknown) => this.deps.onError?.(`flip of ${workerId}: ${messageOf(error)}`))
      .finally(() => {
        this.running.delete(workerId);
        onSettled();
      });
    this.running.set(workerId, tracked);
  }
}

function stepsToDone(state: FlipState): FlipState[] {
  if (state === 'pending') return ['draining', 'switching', 'done'];
  if (state === 'draining') return ['switching', 'done'];
  return ['done'];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
