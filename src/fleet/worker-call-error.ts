// The concrete error every WorkerClient implementation throws (the interface
// file only declares its shape, WorkerFailure).
import type { WorkerFailure, WorkerFailureKind } from './worker-client.js';

export class WorkerCallError extends Error implements WorkerFailure {
  constructor(
    readonly kind: WorkerFailureKind,
    readonly workerId: string,
    message: string,
    readonly code: string = kind,
    readonly status = 0,
  ) {
    super(`worker ${workerId}: ${message}`);
    this.name = 'WorkerCallError';
  }
}

export function isWorkerFailure(error: unknown): error is WorkerFailure {
  return error instanceof WorkerCallError;
}

/**
 * Protocol error codes (docs/protocol.md) that mean "not now, not here": the
 * worker is draining or switching roles, still starting, or no longer serves
 * the role the caller thought (a flip happened since the caller last looked).
 */
const HAND_BACK_CODES = new Set(['draining', 'starting', 'wrong_role']);

/** Classifies a worker's error reply by its stable code and retryable flag. */
export function failureKindOf(code: string, retryable: boolean): WorkerFailureKind {
  if (HAND_BACK_CODES.has(code)) return 'handed-back';
  return retryable ? 'failed' : 'rejected';
}
