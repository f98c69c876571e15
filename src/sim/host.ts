import type { Role, WorkerStatus } from '../domain/role.js';
import type { Profile } from '../perf/profile.js';
import type { EventQueue } from './event-queue.js';
import type { ResolvedSimOptions } from './options.js';
import type { OutcomeRecorder } from './outcomes.js';
import type { RequestTable } from './request-table.js';

/** Kinds of events on the cluster's queue; the target is an instance index unless noted. */
export const EV_ARRIVAL = 0; // target unused
export const EV_PREFILL_DONE = 1;
export const EV_TRANSFER_DONE = 2;
export const EV_STEP_DONE = 3;
export const EV_CONTROL_TICK = 4; // target unused
export const EV_SWITCH_DONE = 5; // target: slot
export const EV_START_DONE = 6; // target: slot

/**
 * What a simulated instance may ask of the cluster that owns it. The cluster
 * implements it; instances call it instead of reaching into each other, so
 * the hand-off rules (routing, KV release, drains) live in one place.
 */
export interface SimHost {
  readonly events: EventQueue;
  readonly requests: RequestTable;
  readonly outcomes: OutcomeRecorder;
  readonly profile: Profile;
  readonly options: ResolvedSimOptions;
  /** A prefill instance finished request `id`'s prefill at `nowSeconds`. */
  prefillDone(id: number, nowSeconds: number): void;
  /** A decode instance pulled request `id`'s KV: release it where it was prefilled. */
  kvPulled(id: number, nowSeconds: number): void;
  /** Request `id` finished; record its outcome and free it. */
  complete(id: number, nowSeconds: number): void;
  /** The instance's queue or memory changed: refresh its entry in the router's views. */
  publish(instance: SimInstance): void;
  /** An instance may have become idle (a draining one can then switch). */
  maybeIdle(instance: SimInstance, nowSeconds: number): void;
}

/** What the cluster needs of every instance, whatever its role. */
export interface SimInstance {
  readonly index: number;
  readonly slot: number;
  readonly role: Role;
  status: WorkerStatus;
  /** Nothing queued, running, held or in transfer. */
  isIdle(): boolean;
  /** Requests waiting at the instance. */
  queuedRequests(): number;
  queuedTokens(): number;
  runningRequests(): number;
  /** Fraction 0–1 of KV capacity in use. */
  kvUsage(): number;
}
