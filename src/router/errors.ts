// Stable error codes of the router's OpenAI-compatible API, each with its
// HTTP status and OpenAI error type (docs/router-api.md). Codes are never
// reused; a new failure gets a new code.
export const ROUTER_ERRORS = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  unsupported_parameter: { status: 400, type: 'invalid_request_error' },
  invalid_max_tokens: { status: 400, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  route_not_found: { status: 404, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  context_length_exceeded: { status: 413, type: 'invalid_request_error' },
  queue_full: { status: 429, type: 'rate_limit_error' },
  no_worker_ready: { status: 503, type: 'server_error' },
  shutting_down: { status: 503, type: 'server_error' },
  upstream_failed: { status: 502, type: 'server_error' },
  timeout: { status: 504, type: 'server_error' },
  internal_error: { status: 500, type: 'server_error' },
} as const;

export type RouterErrorCode = keyof typeof ROUTER_ERRORS;

export class RouterError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(
    readonly code: RouterErrorCode,
    message: string,
    readonly param: string | null = null,
    /** Seconds a client should wait before retrying (Retry-After), for 429 and 503. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'RouterError';
    this.status = ROUTER_ERRORS[code].status;
    this.type = ROUTER_ERRORS[code].type;
  }

  /** OpenAI's error body. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}
