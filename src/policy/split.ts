import type { DecisionReason, RoleChange, RoleTarget } from '../domain/decision.js';
import type { FleetSnapshot, WorkerSnapshot } from '../domain/fleet.js';
import { countByRole } from '../domain/fleet.js';
import type { Role } from '../domain/role.js';

/**
 * Helpers every policy shares: what the pool is, how a wanted split is fitted
 * into it, and which workers move. One place, so that every baseline and the
 * controller agree on them.
 *
 * Invariant of the non-elastic pool: a target has prefill + decode = the
 * number of usable (non-stale) workers, and each role keeps at least
 * `minPerRole` instances (a P/D pool with no instance of a role serves
 * nothing).
 */

/** Fewest instances of each role a policy target keeps. The controller's safety config may raise it. */
export const MIN_INSTANCES_PER_ROLE = 1;

/** Workers the policy can count on: everything that was scraped (stale workers are neither counted nor moved). */
export function usableWorkers(snapshot: FleetSnapshot): WorkerSnapshot[] {
  return snapshot.workers.filter((w) => w.status !== 'stale');
}

/** The split as observed: non-stale workers by their reported role. */
export function currentSplit(snapshot: FleetSnapshot): RoleTarget {
  return { prefill: countByRole(snapshot, 'prefill'), decode: countByRole(snapshot, 'decode') };
}

/**
 * Fits a wanted prefill count into a pool of `poolSize`: prefill within
 * [min, pool − min], decode the rest. A pool too small to hold the minimum
 * of both roles gives what it can to prefill first (a lone GPU still has to
 * serve something) — callers that need both roles check the pool first.
 */
export function clampSplit(prefillWanted: number, poolSize: number, minPerRole = MIN_INSTANCES_PER_ROLE): RoleTarget {
  if (poolSize <= 0) return { prefill: 0, decode: 0 };
  const low = Math.min(minPerRole, poolSize);
  const high = Math.max(low, poolSize - minPerRole);
  const prefill = Math.min(high, Math.max(low, Math.round(prefillWanted)));
  return { prefill, decode: poolSize - prefill };
}

/**
 * Splits a pool in the ratio of two wanted counts (e.g. N_P : N_D from a
 * sizing rule) — Dynamo's SLA planner scales both counts by budget ÷ wanted
 * when they exceed the GPU budget; in a fixed pool the same proportional
 * rule also spends spare GPUs. With nothing wanted (an idle forecast) it
 * returns undefined: the caller keeps the current split rather than guess.
 */
export function proportionalSplit(
  prefillWanted: number,
  decodeWanted: number,
  poolSize: number,
  minPerRole = MIN_INSTANCES_PER_ROLE,
): RoleTarget | undefined {
  const total = prefillWanted + decodeWanted;
  if (!(total > 0) || !Number.isFinite(total)) return undefined;
  return clampSplit((poolSize * prefillWanted) / total, poolSize, minPerRole);
}

/** Work a worker still holds: queued plus running requests. Flipping the least busy worker drains fastest. */
export function inFlightRequests(worker: WorkerSnapshot): number {
  return worker.queuedRequests + worker.runningRequests;
}

/** Orders flip candidates: least in-flight work first, ties by id (deterministic across runs). */
export function byFlipPreference(a: WorkerSnapshot, b: WorkerSnapshot): number {
  return inFlightRequests(a) - inFlightRequests(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The flips that move the observed split to `target`: only `ready` workers
 * of the role that shrinks, least in-flight work first. A worker already
 * draining or switching is never picked (one flip at a time per worker).
 */
export function flipsToward(snapshot: FleetSnapshot, target: RoleTarget, reason: DecisionReason): RoleChange[] {
  const delta = target.prefill - countByRole(snapshot, 'prefill');
  if (delta === 0) return [];
  const from: Role = delta > 0 ? 'decode' : 'prefill';
  const to: Role = delta > 0 ? 'prefill' : 'decode';
  return snapshot.workers
    .filter((w) => w.role === from && w.status === 'ready')
    .sort(byFlipPreference)
    .slice(0, Math.abs(delta))
    .map((w) => ({ workerId: w.id, from, to, reason }));
}
