import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type {
  ConfigRevisionRecord,
  ControllerFlags,
  DailySummaryRecord,
  DecisionRecord,
  FlipRecord,
  LoadHistoryRecord,
} from './store.js';
import { STORE_SCHEMA_VERSION } from './store.js';

/**
 * The persisted document and its schema. Every record is checked against its
 * schema when it goes in (so a NaN or a stray field fails the caller at once
 * instead of making the file unreadable at the next start) and the whole
 * document when it is read back.
 */

/**
 * `Date.prototype.toISOString()` form. One fixed form (UTC, milliseconds)
 * so a stored instant always parses back, whatever wrote it.
 */
const IsoTime = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$' });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Count = Type.Integer({ minimum: 0 });
const NonNegative = Type.Number({ minimum: 0 });
const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const RoleSchema = Type.Union([Type.Literal('prefill'), Type.Literal('decode')]);
const Strict = { additionalProperties: false } as const;

const ReasonSchema = Type.Object(
  {
    code: Type.String({ minLength: 1 }),
    message: Type.String(),
    detail: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean()]))),
  },
  Strict,
);

const RoleChangeSchema = Type.Object(
  { workerId: Type.String({ minLength: 1 }), from: RoleSchema, to: RoleSchema, reason: ReasonSchema },
  Strict,
);

const RoleTargetSchema = Type.Object({ prefill: Count, decode: Count }, Strict);

export const LoadSampleSchema = Type.Object(
  {
    startSeconds: Type.Number(),
    intervalSeconds: NonNegative,
    requests: Count,
    inputMean: NonNegative,
    inputSecondMoment: NonNegative,
    outputMean: NonNegative,
  },
  Strict,
);

const ForecastSchema = Type.Object(
  {
    horizonSeconds: NonNegative,
    requestsPerSecond: Type.Object({ mean: NonNegative, low: NonNegative, high: NonNegative }, Strict),
    inputMean: NonNegative,
    inputSecondMoment: NonNegative,
    outputMean: NonNegative,
  },
  Strict,
);

const InputsSchema = Type.Object(
  {
    snapshotAtSeconds: Type.Number(),
    workers: Count,
    prefill: Count,
    decode: Count,
    stale: Count,
    busy: Count,
    pendingFlips: Count,
    load: LoadSampleSchema,
  },
  Strict,
);

const Id = Type.Integer({ minimum: 1 });

export const NewDecisionSchema = Type.Object(
  {
    atSeconds: Type.Number(),
    atIso: IsoTime,
    status: Type.String({ minLength: 1 }),
    policy: Type.String(),
    advisory: Type.Boolean(),
    inputs: Type.Optional(InputsSchema),
    forecast: Type.Optional(ForecastSchema),
    target: Type.Optional(RoleTargetSchema),
    effectiveTarget: Type.Optional(RoleTargetSchema),
    proposed: Type.Array(RoleChangeSchema),
    applied: Type.Array(
      Type.Object({ change: RoleChangeSchema, outcome: Type.String({ minLength: 1 }), message: Type.Optional(Type.String()) }, Strict),
    ),
    held: Type.Array(Type.Object({ change: RoleChangeSchema, rule: Type.String({ minLength: 1 }), message: Type.String() }, Strict)),
    reason: ReasonSchema,
    nextAtSeconds: Type.Optional(Type.Number()),
  },
  Strict,
);
const DecisionSchema = Type.Composite([NewDecisionSchema, Type.Object({ id: Id })], Strict);

export const HistorySchema = Type.Object(
  {
    startIso: IsoTime,
    load: LoadSampleSchema,
    intervals: Type.Integer({ minimum: 1 }),
    ttftP90Seconds: Type.Optional(NonNegative),
    tpotP90Seconds: Type.Optional(NonNegative),
    attainment: Type.Optional(Fraction),
  },
  Strict,
);

const FlipStateSchema = Type.Union(
  (['pending', 'draining', 'switching', 'done', 'failed', 'rolled-back'] as const).map((s) => Type.Literal(s)),
);
const FlipTransitionSchema = Type.Object({ state: FlipStateSchema, atIso: IsoTime, message: Type.Optional(Type.String()) }, Strict);
const FlipSchema = Type.Object(
  {
    id: Id,
    change: RoleChangeSchema,
    decisionId: Type.Optional(Id),
    state: FlipStateSchema,
    createdIso: IsoTime,
    updatedIso: IsoTime,
    transitions: Type.Array(FlipTransitionSchema, { minItems: 1 }),
  },
  Strict,
);

export const NewConfigRevisionSchema = Type.Object(
  {
    atIso: IsoTime,
    actor: Type.String({ minLength: 1 }),
    kind: Type.String({ minLength: 1 }),
    summary: Type.String(),
    before: Type.Optional(Type.Unknown()),
    after: Type.Optional(Type.Unknown()),
  },
  Strict,
);
const ConfigRevisionSchema = Type.Composite([NewConfigRevisionSchema, Type.Object({ id: Id })], Strict);

export const DailySummarySchema = Type.Object(
  {
    day: Day,
    generatedIso: IsoTime,
    decisionsByStatus: Type.Record(Type.String(), Count),
    flipsByState: Type.Record(Type.String(), Count),
    requests: Count,
    attainment: Type.Optional(Fraction),
    ttftP90MaxSeconds: Type.Optional(NonNegative),
    tpotP90MaxSeconds: Type.Optional(NonNegative),
  },
  Strict,
);

export const OverrideSchema = Type.Object(
  {
    workerId: Type.String({ minLength: 1 }),
    role: RoleSchema,
    untilIso: IsoTime,
    setIso: IsoTime,
    actor: Type.String({ minLength: 1 }),
    note: Type.Optional(Type.String()),
  },
  Strict,
);

const FlagsSchema = Type.Object({ paused: Type.Boolean(), advisory: Type.Boolean(), overrides: Type.Array(OverrideSchema) }, Strict);

/**
 * The whole file. `nextIds` keeps id counters apart from the collections so
 * an id is never reused after retention dropped the record that had it.
 * Collections are kept in append order (history: by start time).
 */
export const StoreDocumentSchema = Type.Object(
  {
    schemaVersion: Type.Literal(STORE_SCHEMA_VERSION),
    nextIds: Type.Object({ decision: Id, flip: Id, configRevision: Id }, Strict),
    decisions: Type.Array(DecisionSchema),
    history: Type.Array(HistorySchema),
    flips: Type.Array(FlipSchema),
    configRevisions: Type.Array(ConfigRevisionSchema),
    dailySummaries: Type.Array(DailySummarySchema),
    flags: FlagsSchema,
  },
  Strict,
);

export type StoreDocument = Static<typeof StoreDocumentSchema>;

// The record types of store.ts are written by hand (control/ reads them
// without TypeBox); these lines fail to compile if a schema and its type drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemasMatchTypes: [
  Same<Static<typeof DecisionSchema>, DecisionRecord>,
  Same<Static<typeof HistorySchema>, LoadHistoryRecord>,
  Same<Static<typeof FlipSchema>, FlipRecord>,
  Same<Static<typeof ConfigRevisionSchema>, ConfigRevisionRecord>,
  Same<Static<typeof DailySummarySchema>, DailySummaryRecord>,
  Same<Static<typeof FlagsSchema>, ControllerFlags>,
] = [true, true, true, true, true, true];
void schemasMatchTypes;

export function emptyDocument(): StoreDocument {
  return {
    schemaVersion: STORE_SCHEMA_VERSION,
    nextIds: { decision: 1, flip: 1, configRevision: 1 },
    decisions: [],
    history: [],
    flips: [],
    configRevisions: [],
    dailySummaries: [],
    flags: { paused: false, advisory: false, overrides: [] },
  };
}

/** Compiled once: the document check runs on every open and every record check on every append. */
export const checkDocument = TypeCompiler.Compile(StoreDocumentSchema);
export const checkNewDecision = TypeCompiler.Compile(NewDecisionSchema);
export const checkHistory = TypeCompiler.Compile(HistorySchema);
export const checkNewConfigRevision = TypeCompiler.Compile(NewConfigRevisionSchema);
export const checkDailySummary = TypeCompiler.Compile(DailySummarySchema);
export const checkOverride = TypeCompiler.Compile(OverrideSchema);
export const checkFlip = TypeCompiler.Compile(FlipSchema);
export const checkFlipTransition = TypeCompiler.Compile(FlipTransitionSchema);

/** The first schema fault of `value`, as `"/json/pointer: message"`, or undefined when it passes. */
export function firstFault<T extends TSchema>(check: TypeCheck<T>, value: unknown): string | undefined {
  if (check.Check(value)) return undefined;
  const error = check.Errors(value).First();
  if (!error) return '(root): does not match the schema';
  return `${error.path || '(root)'}: ${error.message}`;
}
