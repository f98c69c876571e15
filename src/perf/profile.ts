import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readFile } from 'node:fs/promises';
import { InputError, InputErrors } from '../domain/errors.js';

/** [a, b, c] of DistServe's fitted forms, in milliseconds. */
const Coefficients = Type.Tuple([Type.Number(), Type.Number(), Type.Number()], {
  description: '[a, b, c] in milliseconds',
});

const DecodeFit = Type.Object(
  {
    smallBatch: Coefficients,
    largeBatch: Coefficients,
    thresholdBatch: Type.Integer({ minimum: 1, description: 'batch size from which largeBatch applies (DistServe: batch < threshold uses smallBatch)' }),
  },
  { additionalProperties: false },
);

/**
 * The performance model of one (model, GPU, parallelism) placement: the
 * planner sizes roles with it, the simulator times instances with it, and the
 * native worker's sim backend times its steps with it.
 *
 * prefill batch ms = a + b·Σl + c·Σl² over the prompt lengths l of the batch;
 * decode step ms   = a + b·Σ(context+1) + c·batch, small- or large-batch fit;
 * with pipeline degree pp: prefill T/pp + pp, decode T/pp (DistServe's simulator).
 */
export const ProfileSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    model: Type.String({ minLength: 1 }),
    gpu: Type.String({ minLength: 1 }),
    tensorParallel: Type.Integer({ minimum: 1 }),
    pipelineParallel: Type.Integer({ minimum: 1 }),
    prefillMs: Coefficients,
    decodeMs: DecodeFit,
    /** Optional fits of a colocated engine (vLLM) for the colocated baseline; the disaggregated fits are used when absent. */
    colocated: Type.Optional(Type.Object({ prefillMs: Coefficients, decodeMs: DecodeFit }, { additionalProperties: false })),
    kvCapacityTokens: Type.Integer({ minimum: 1, description: 'KV tokens that fit in the instance memory' }),
    kvBytesPerToken: Type.Integer({ minimum: 1, description: 'KV bytes per token for the whole model (2 × layers × hidden × bytes per element)' }),
    /** Longest prompt + output the model accepts; when absent, only the KV capacity bounds a request. */
    contextTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    flipSeconds: Type.Number({ minimum: 0, description: 'time to switch role once drained (weights stay resident)' }),
    startSeconds: Type.Number({ minimum: 0, description: 'time to bring up a new instance (load weights, warm up)' }),
    source: Type.String({ minLength: 1 }),
    assumptions: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export type Profile = Static<typeof ProfileSchema>;
export type LatencyCoefficients = Static<typeof Coefficients>;
export type DecodeCoefficients = Static<typeof DecodeFit>;

/** Validates parsed JSON as a profile; every fault is reported as `where: key.path: reason`. */
export function parseProfile(value: unknown, where: string): Profile {
  if (Value.Check(ProfileSchema, value)) return value;
  const errors = [...Value.Errors(ProfileSchema, value)].map((e) => {
    const key = e.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    return new InputError(`${where}: ${key}`, e.message);
  });
  if (errors.length === 1) throw errors[0];
  throw new InputErrors(errors);
}

export async function loadProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read profile: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(path, `invalid JSON: ${(error as Error).message}`);
  }
  return parseProfile(json, path);
}
