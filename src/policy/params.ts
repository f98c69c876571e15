import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { InputError, InputErrors } from '../domain/errors.js';

/**
 * Validates a policy's parameters against its TypeBox schema after filling
 * the schema's defaults. Every fault names `where` (a file, or the policy
 * name) and the key path, e.g. `policies/reactive.json: params.decodeKvScaleUp: Expected number`.
 */
export function parseParams<S extends TSchema>(schema: S, value: unknown, where: string, keyPrefix = ''): Static<S> {
  const filled = Value.Default(schema, Value.Clone(value ?? {}));
  if (Value.Check(schema, filled)) return filled as Static<S>;
  const errors = [...Value.Errors(schema, filled)].map((e) => {
    const key = keyPrefix + (e.path.replace(/^\//, '').replaceAll('/', '.') || '');
    return new InputError(`${where}: ${key || '(root)'}`, e.message);
  });
  if (errors.length === 1) throw errors[0];
  throw new InputErrors(errors);
}
