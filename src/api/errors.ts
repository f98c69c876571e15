import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InputError, InputErrors } from '../domain/errors.js';

/**
 * The admin API's error codes: each with its HTTP status, never reused for
 * another meaning (clients branch on `code`, not on the message).
 */
export const API_ERRORS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  no_history: 409,
  internal: 500,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

/** Every error answer: `{ error: { code, message } }`. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERRORS[code];
  }
}

/**
 * The one error handler. Bad input (fastify's schema validation, an
 * InputError from a validator below) → 400 with the reason; coded errors →
 * their status; anything else → 500 with a fixed message, the details only
 * in the log (internals are not for API clients).
 */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiError) return reply.status(error.status).send({ error: { code: error.code, message: error.message } });
  if ('validation' in error && error.validation) {
    return reply.status(400).send({ error: { code: 'bad_request', message: error.message } });
  }
  if (error instanceof InputError || error instanceof InputErrors) {
    return reply.status(400).send({ error: { code: 'bad_request', message: error.message } });
  }
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  // fastify's own client errors (malformed JSON body, wrong content type) are bad input too.
  if (status >= 400 && status < 500) return reply.status(400).send({ error: { code: 'bad_request', message: error.message } });
  request.log.error({ err: error }, 'admin API internal error');
  return reply.status(500).send({ error: { code: 'internal', message: 'internal error; see the daemon log' } });
}
