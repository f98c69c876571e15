// JSON schemas of every worker route (TypeBox → JSON Schema, checked by fastify).
import { Type, type Static } from '@sinclair/typebox';

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), retryable: Type.Boolean() }),
});

const RequestId = Type.String({ minLength: 1, maxLength: 200, description: 'caller-chosen id, echoed back (logs only)' });
const PromptTokens = Type.Array(Type.Integer({ minimum: 0 }), {
  minItems: 1,
  description: 'prompt token ids; ids ≥ the model vocabulary are folded modulo the vocabulary',
});
const PromptLength = Type.Integer({ minimum: 1, description: 'synthesise a deterministic prompt of this many tokens (trace replay)' });

export const PrefillBody = Type.Object(
  {
    requestId: Type.Optional(RequestId),
    promptTokens: Type.Optional(PromptTokens),
    promptLength: Type.Optional(PromptLength),
    retainKv: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'false: free the KV as soon as the first token exists (the caller needs no decode); the reply then has no kvHandle or kvUrl',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PrefillBody = Static<typeof PrefillBody>;

export const Timing = Type.Record(Type.String(), Type.Number());

export const PrefillReply = Type.Object({
  requestId: Type.String(),
  firstToken: Type.Integer(),
  // Absent when the request said retainKv: false.
  kvHandle: Type.Optional(Type.String()),
  kvUrl: Type.Optional(Type.String()),
  promptTokens: Type.Integer(),
  kvBytes: Type.Integer(),
  timing: Type.Object({ queueSeconds: Type.Number(), prefillSeconds: Type.Number(), ttftSeconds: Type.Number() }),
});

export const DecodeBody = Type.Object(
  {
    requestId: Type.Optional(RequestId),
    kvUrl: Type.String({ minLength: 1, pattern: '^https?://', description: 'the prefill reply\'s kvUrl' }),
    firstToken: Type.Integer({ minimum: 0 }),
    promptTokens: Type.Integer({ minimum: 1, description: 'tokens in the KV (the prefill reply\'s promptTokens)' }),
    maxTokens: Type.Integer({ minimum: 1, description: 'output tokens of the request in all, the first (from prefill) included' }),
    stream: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type DecodeBody = Static<typeof DecodeBody>;

export const GenerateBody = Type.Object(
  {
    requestId: Type.Optional(RequestId),
    promptTokens: Type.Optional(PromptTokens),
    promptLength: Type.Optional(PromptLength),
    maxTokens: Type.Integer({ minimum: 1 }),
    stream: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type GenerateBody = Static<typeof GenerateBody>;

export const CompletionReply = Type.Object({
  requestId: Type.String(),
  tokens: Type.Array(Type.Integer()),
  firstIndex: Type.Integer(),
  timing: Timing,
});

export const RoleBody = Type.Object(
  {
    role: Type.Union([Type.Literal('prefill'), Type.Literal('decode')]),
    drainTimeoutSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
  },
  { additionalProperties: false },
);
export type RoleBody = Static<typeof RoleBody>;

export const RoleReply = Type.Object({
  role: Type.String(),
  previousRole: Type.String(),
  changed: Type.Boolean(),
  drainSeconds: Type.Number(),
  switchSeconds: Type.Number(),
  handedBack: Type.Integer(),
  releasedKvHandles: Type.Integer(),
});

export const StateReply = Type.Object({
  worker: Type.String(),
  role: Type.String(),
  status: Type.String(),
  backend: Type.String(),
  model: Type.String(),
  queue: Type.Object({ requests: Type.Integer(), tokens: Type.Integer() }),
  running: Type.Integer(),
  heldKvHandles: Type.Integer(),
  kv: Type.Object({
    usedBlocks: Type.Integer(),
    totalBlocks: Type.Integer(),
    blockSize: Type.Integer(),
    usedTokens: Type.Integer(),
    totalTokens: Type.Integer(),
    bytesPerToken: Type.Integer(),
    usage: Type.Number(),
  }),
  vocabSize: Type.Integer(),
  contextTokens: Type.Integer(),
  lastSwitch: Type.Optional(Type.Object({ drainSeconds: Type.Number(), switchSeconds: Type.Number(), role: Type.String() })),
});

export const KvParams = Type.Object({ handle: Type.String({ minLength: 1, maxLength: 64 }) });
