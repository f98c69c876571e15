import type { Role, WorkerId, WorkerStatus } from './role.js';

/**
 * What the controller knows about one worker at one observation. Figures a
 * worker did not report are undefined, never guessed; a worker that could
 * not be scraped has status `stale`.
 */
export interface WorkerSnapshot {
  id: WorkerId;
  role: Role;
  status: WorkerStatus;
  /** Requests waiting (prefill: not yet prefilled; decode: not yet admitted to the batch). */
  queuedRequests: number;
  /** Prompt tokens waiting (prefill) or context tokens waiting (decode). */
  queuedTokens: number;
  /** Requests in the running batch (decode) or being prefilled. */
  runningRequests: number;
  /** Fraction (0–1) of KV capacity in use. */
  kvUsage: number;
  /** Recent TTFT / TPOT percentiles measured at the worker, seconds, when known. */
  ttftP90Seconds?: number;
  tpotP90Seconds?: number;
  /** Controller-clock time of the last completed flip of this worker, if any. */
  lastFlipAtSeconds?: number;
}

export interface FleetSnapshot {
  /** Controller-clock time of the observation, seconds. */
  atSeconds: number;
  workers: WorkerSnapshot[];
}

export function countByRole(snapshot: FleetSnapshot, role: Role): number {
  return snapshot.workers.filter((w) => w.role === role && w.status !== 'stale').length;
}

/** One worker's report of itself, in WorkerSnapshot units; a reader that cannot tell a figure leaves it out rather than guess. */
export interface WorkerReading {
  role: Role;
  status: Exclude<WorkerStatus, 'stale'>;
  queuedRequests: number;
  queuedTokens: number;
  runningRequests: number;
  kvUsage: number;
  ttftP90Seconds?: number;
  tpotP90Seconds?: number;
}
