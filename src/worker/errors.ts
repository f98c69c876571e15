// Stable error codes of the worker protocol (docs/protocol.md), each with its
// HTTP status and whether the caller may retry elsewhere. Codes are never reused.
export const WORKER_ERRORS = {
  bad_request: { status: 400, retryable: false },
  kv_mismatch: { status: 400, retryable: false },
  kv_not_found: { status: 404, retryable: true },
  wrong_role: { status: 409, retryable: true },
  switch_in_progress: { status: 409, retryable: true },
  too_long: { status: 413, retryable: false },
  engine_error: { status: 500, retryable: true },
  kv_unreachable: { status: 502, retryable: true },
  draining: { status: 503, retryable: true },
  starting: { status: 503, retryable: true },
} as const;

export type WorkerErrorCode = keyof typeof WORKER_ERRORS;

export class WorkerError extends Error {
  readonly status: number;
  readonly retryable: boolean;
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerError';
    this.status = WORKER_ERRORS[code].status;
    this.retryable = WORKER_ERRORS[code].retryable;
  }

  toJSON(): { error: { code: string; message: string; retryable: boolean } } {
    return { error: { code: this.code, message: this.message, retryable: this.retryable } };
  }
}
