import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

export type TokenScope = 'read' | 'admin';

/** A bearer token as the loaded config gives it (tokenEnv already resolved). */
export interface ApiToken {
  name: string;
  token: string;
  scope: TokenScope;
}

/**
 * Bearer-token check for one request. Reads need `read` or `admin`;
 * anything that changes state needs `admin`. No or an unknown token → 401;
 * a known token without the scope → 403. Returns the token's name, the
 * actor recorded with the change. Compared in constant time per token so
 * the answer's timing does not leak a token's prefix.
 */
export function authorize(request: FastifyRequest, tokens: readonly ApiToken[], needed: TokenScope): string {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError('unauthorized', 'missing bearer token (Authorization: Bearer <token>)');
  const given = Buffer.from(match[1] as string);
  const token = tokens.find((t) => {
    const expected = Buffer.from(t.token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!token) throw new ApiError('unauthorized', 'unknown bearer token');
  if (needed === 'admin' && token.scope !== 'admin') throw new ApiError('forbidden', `token ${token.name} has scope ${token.scope}; this route needs admin`);
  return token.name;
}
