/** The phase a GPU instance serves. A flip moves an instance between the two. */
export type Role = 'prefill' | 'decode';
export const ROLES: readonly Role[] = ['prefill', 'decode'];

export function otherRole(role: Role): Role {
  return role === 'prefill' ? 'decode' : 'prefill';
}

export function isRole(value: unknown): value is Role {
  return value === 'prefill' || value === 'decode';
}

/** Stable identifier of one worker (one GPU instance), e.g. "w0" or "127.0.0.1:8100". */
export type WorkerId = string;

/** Lifecycle of a worker as the worker protocol reports it; `stale` is the controller's own mark for a worker it could not scrape. */
export type WorkerStatus = 'starting' | 'ready' | 'draining' | 'switching' | 'stale';
