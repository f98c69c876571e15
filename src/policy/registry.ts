import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { InputError } from '../domain/errors.js';
import { ColocatedParamsSchema, ColocatedPolicy } from './colocated.js';
import { DopdParamsSchema, DopdPolicy } from './dopd.js';
import { DynamoSlaParamsSchema, DynamoSlaPolicy } from './dynamo-sla.js';
import { OracleParamsSchema, OraclePolicy } from './oracle.js';
import { parseParams } from './params.js';
import { ReactiveParamsSchema, ReactivePolicy } from './reactive.js';
import type { Policy } from './policy.js';
import { StaticParamsSchema, StaticPolicy } from './static.js';

/**
 * Every shipped policy by name, with its parameter schema. `createPolicy`
 * is how the simulator, the bench and the daemon get a policy: by name
 * (schema defaults, optionally overridden), or from a policies/<name>.json
 * file. Policy code may not do I/O (it runs inside the simulator), so the
 * caller passes the function that reads a file.
 */
interface PolicyEntry<S extends TSchema> {
  schema: S;
  description: string;
  create(params: Static<S>): Policy;
  /** Parameters that have no sensible default and must come from the caller (or the file). */
  required?: readonly string[];
}

function entry<S extends TSchema>(e: PolicyEntry<S>): PolicyEntry<S> {
  return e;
}

const ENTRIES = {
  static: entry({
    schema: StaticParamsSchema,
    description: 'a fixed prefill:decode split',
    create: (p) => new StaticPolicy(p, 'static'),
  }),
  'static-best': entry({
    schema: StaticParamsSchema,
    description: "a fixed split chosen by the caller's search over all splits (DistServe)",
    create: (p) => new StaticPolicy(p, 'static-best'),
    required: ['prefill', 'decode'],
  }),
  reactive: entry({
    schema: ReactiveParamsSchema,
    description: "Dynamo's load-based planner: prefill queue and decode KV thresholds, ±1 per interval",
    create: (p) => new ReactivePolicy(p),
  }),
  'dynamo-sla': entry({
    schema: DynamoSlaParamsSchema,
    description: "Dynamo's SLA planner: replicas from forecast rate, ISL, OSL and the profile, with correction factors",
    create: (p) => new DynamoSlaPolicy(p),
  }),
  dopd: entry({
    schema: DopdParamsSchema,
    description: "DOPD's rule: C_max from KV, r = C_max·TTFT/(OSL·TPOT), N_D = ⌈concurrency/C_max⌉, N_P = ⌈r·N_D⌉",
    create: (p) => new DopdPolicy(p),
  }),
  oracle: entry({
    schema: OracleParamsSchema,
    description: "knows each interval's true load (simulator only) and picks the split the profile says serves it best",
    create: (p) => new OraclePolicy(p),
  }),
  colocated: entry({
    schema: ColocatedParamsSchema,
    description: 'every GPU serves both phases; no flips',
    create: () => new ColocatedPolicy(),
  }),
} satisfies Record<string, PolicyEntry<TSchema>>;

export type PolicyName = keyof typeof ENTRIES;
export const POLICY_NAMES = Object.keys(ENTRIES) as PolicyName[];

export function isPolicyName(value: string): value is PolicyName {
  return Object.hasOwn(ENTRIES, value);
}

/** One shipped or user-written policy configuration: policies/<name>.json. */
export const PolicyFileSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    policy: Type.String({ minLength: 1, description: 'one of POLICY_NAMES' }),
    description: Type.Optional(Type.String()),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type PolicyFile = Static<typeof PolicyFileSchema>;

/** Reads a file's text; supplied by the composition root (cli/), since policy code does no I/O. */
export type ReadText = (path: string) => string;

function looksLikeFile(nameOrFile: string): boolean {
  return nameOrFile.endsWith('.json') || nameOrFile.includes('/');
}

/** Validates the text of a policy file; faults name the file and key. */
export function parsePolicyFile(text: string, path: string): PolicyFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(path, `invalid JSON: ${(error as Error).message}`);
  }
  if (!Value.Check(PolicyFileSchema, json)) {
    const first = [...Value.Errors(PolicyFileSchema, json)][0];
    const key = first?.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    throw new InputError(`${path}: ${key}`, first?.message ?? 'not a policy file');
  }
  if (!isPolicyName(json.policy)) {
    throw new InputError(`${path}: policy`, `unknown policy "${json.policy}" (known: ${POLICY_NAMES.join(', ')})`);
  }
  return json;
}

/**
 * A policy by name (`reactive`) or from a policies/<name>.json file. `params`
 * override the file's (or the defaults); they are validated against the
 * policy's schema, and faults name the file or policy and the key.
 */
export function createPolicy(nameOrFile: string, params: Record<string, unknown> = {}, readText?: ReadText): Policy {
  let name: string;
  let where: string;
  let fileParams: Record<string, unknown> = {};
  let keyPrefix = '';
  if (looksLikeFile(nameOrFile)) {
    if (!readText) throw new InputError(nameOrFile, 'policy files are read by the caller: pass a readText function');
    let text: string;
    try {
      text = readText(nameOrFile);
    } catch (error) {
      throw new InputError(nameOrFile, `cannot read policy file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const file = parsePolicyFile(text, nameOrFile);
    name = file.policy;
    where = nameOrFile;
    fileParams = file.params ?? {};
    keyPrefix = 'params.';
  } else {
    name = nameOrFile;
    where = `policy ${nameOrFile}`;
  }
  if (!isPolicyName(name)) throw new InputError('policy', `unknown policy "${name}" (known: ${POLICY_NAMES.join(', ')})`);
  const spec: PolicyEntry<TSchema> = ENTRIES[name];
  const merged = { ...fileParams, ...params };
  for (const key of spec.required ?? []) {
    if (merged[key] === undefined) {
      throw new InputError(`${where}: ${keyPrefix}${key}`, `${name} needs ${spec.required?.join(' and ')} from the caller (${spec.description})`);
    }
  }
  return spec.create(parseParams(spec.schema, merged, where, keyPrefix));
}

/** The schema of a policy's parameters (for docs and config checking). */
export function policyParamsSchema(name: PolicyName): TSchema {
  return ENTRIES[name].schema;
}
