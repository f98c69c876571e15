import { Type, type TSchema } from '@sinclair/typebox';
import { HistorySchema, NewDecisionSchema, OverrideSchema } from '../store/document.js';

// Request and response schemas of the admin API. Records that come from
// the store reuse the store's own document schemas, so the API cannot
// drift from what is persisted.

const Strict = { additionalProperties: false } as const;

export const ErrorSchema = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }, Strict) }, Strict);

/** Every route answers its errors in one shape. */
export function withErrors(ok: Record<number, TSchema>): Record<number, TSchema> {
  return { ...ok, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 500: ErrorSchema };
}

export const RoleSchema = Type.Union([Type.Literal('prefill'), Type.Literal('decode')]);
export const DecisionSchema = Type.Composite([NewDecisionSchema, Type.Object({ id: Type.Integer({ minimum: 1 }) })], Strict);
export const PolicySettingSchema = Type.Object({ name: Type.String({ minLength: 1 }), params: Type.Record(Type.String(), Type.Unknown()) }, Strict);
export const PolicyPutSchema = Type.Object(
  { name: Type.String({ minLength: 1 }), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  { ...Strict, description: 'A registered policy name and its parameters (validated against the policy’s schema).' },
);

const RecoveredSchema = Type.Object(
  { flipId: Type.Integer(), workerId: Type.String(), action: Type.String(), message: Type.String() },
  Strict,
);

export const StatusSchema = Type.Object(
  {
    paused: Type.Boolean(),
    advisory: Type.Boolean(),
    policy: PolicySettingSchema,
    pendingPolicy: Type.Optional(PolicySettingSchema),
    forecaster: Type.String(),
    intervalSeconds: Type.Number(),
    workers: Type.Integer(),
    overrides: Type.Array(OverrideSchema),
    lastDecision: Type.Optional(DecisionSchema),
    recovered: Type.Array(RecoveredSchema),
  },
  Strict,
);

export const WorkerSchema = Type.Object(
  {
    id: Type.String(),
    role: RoleSchema,
    status: Type.String(),
    queuedRequests: Type.Number(),
    queuedTokens: Type.Number(),
    runningRequests: Type.Number(),
    kvUsage: Type.Number(),
    ttftP90Seconds: Type.Optional(Type.Number()),
    tpotP90Seconds: Type.Optional(Type.Number()),
    lastFlipAtSeconds: Type.Optional(Type.Number()),
    override: Type.Optional(OverrideSchema),
    error: Type.Optional(Type.String({ description: 'Why the worker is stale.' })),
  },
  Strict,
);

export const FleetSchema = Type.Object({ workers: Type.Array(WorkerSchema) }, Strict);

export const DecisionsQuerySchema = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive lower bound on the decision time (ISO 8601, UTC).' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive upper bound.' })),
    reason: Type.Optional(Type.String({ minLength: 1, description: 'Comma-separated reason codes.' })),
    status: Type.Optional(Type.String({ minLength: 1, description: 'Comma-separated statuses (acted, steady, held, advisory, paused, not-synced).' })),
    applied: Type.Optional(Type.Boolean({ description: 'true: a flip was started; false: none was.' })),
    held: Type.Optional(Type.Boolean({ description: 'true: a change was held back by a safety rule.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    cursor: Type.Optional(Type.String({ minLength: 1 })),
  },
  Strict,
);
export const DecisionsPageSchema = Type.Object({ items: Type.Array(DecisionSchema), nextCursor: Type.Optional(Type.String()) }, Strict);

const BandSchema = Type.Object({ mean: Type.Number(), low: Type.Number(), high: Type.Number() }, Strict);
export const ForecastQuerySchema = Type.Object({ last: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, default: 120 })) }, Strict);
export const ForecastSchema = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          startIso: Type.String(),
          intervalSeconds: Type.Number(),
          actualRps: Type.Number(),
          forecastRps: Type.Optional(BandSchema),
          history: HistorySchema,
        },
        Strict,
      ),
    ),
  },
  Strict,
);

export const FlagsSchema = Type.Object({ paused: Type.Boolean(), advisory: Type.Boolean() }, Strict);
export const AdvisorySchema = Type.Object({ enabled: Type.Boolean() }, Strict);
export const OverrideRequestSchema = Type.Object(
  {
    worker: Type.String({ minLength: 1 }),
    role: RoleSchema,
    expiresInSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 7 * 86_400 }),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  Strict,
);
export const WorkerParamsSchema = Type.Object({ worker: Type.String({ minLength: 1 }) }, Strict);

export const SimulateRequestSchema = Type.Object(
  {
    minutes: Type.Number({ exclusiveMinimum: 0, maximum: 7 * 24 * 60, description: 'Replay the last N minutes of recorded load.' }),
    policy: Type.String({ minLength: 1 }),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    gpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096, description: 'Pool size; default the fleet size.' })),
  },
  Strict,
);
export const SimulateResultSchema = Type.Object(
  {
    policy: Type.String(),
    attainment: Type.Number(),
    ttft_p50_s: Type.Number(),
    ttft_p90_s: Type.Number(),
    ttft_p99_s: Type.Number(),
    tpot_p50_s: Type.Number(),
    tpot_p90_s: Type.Number(),
    tpot_p99_s: Type.Number(),
    ttft_mean_s: Type.Number(),
    tpot_mean_s: Type.Number(),
    gpu_seconds: Type.Number(),
    flips: Type.Integer(),
    completed: Type.Integer(),
    dropped: Type.Integer(),
    decisions: Type.Integer(),
    requests: Type.Integer(),
    intervals: Type.Integer(),
    spanSeconds: Type.Number(),
    synthesis: Type.String(),
  },
  Strict,
);

export { OverrideSchema };
export const EmptySchema = Type.Null({ description: 'No content.' });
