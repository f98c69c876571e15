// Request and response schemas of the OpenAI-compatible routes. Requests
// allow unknown keys: OpenAI clients send sampling options (temperature,
// top_p, …) that a greedy engine ignores, and refusing them would break
// every client. The keys the router acts on are typed here; their value
// ranges (max_tokens against the limit, prompt against the context) are
// checked in the handler, where the limits are known.
import { Type, type Static } from '@sinclair/typebox';

const StreamOptions = Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()]);

/** Fields the two endpoints share, including pdpilot's extensions. */
const Common = {
  model: Type.String({ minLength: 1 }),
  max_tokens: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(StreamOptions),
  n: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  /** Extension: prompt length in tokens, replacing the prompt's text (trace replay without text). */
  prompt_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Extension: do not stop at the end-of-text token; always produce max_tokens tokens. */
  ignore_eos: Type.Optional(Type.Boolean()),
  /** Extension (as in vLLM): add the output token ids to each choice. */
  return_token_ids: Type.Optional(Type.Boolean()),
};

export const CompletionBody = Type.Object(
  {
    ...Common,
    prompt: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String()), Type.Array(Type.Integer({ minimum: 0 }))])),
  },
  { additionalProperties: true },
);
export type CompletionBody = Static<typeof CompletionBody>;

const TextPart = Type.Object({ type: Type.Literal('text'), text: Type.String() });

export const ChatBody = Type.Object(
  {
    ...Common,
    max_completion_tokens: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    messages: Type.Array(
      Type.Object({
        role: Type.String({ minLength: 1 }),
        content: Type.Union([Type.String(), Type.Array(TextPart), Type.Null()]),
      }),
      { minItems: 1 },
    ),
  },
  { additionalProperties: true },
);
export type ChatBody = Static<typeof ChatBody>;

const Usage = Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() });
const FinishReason = Type.Union([Type.Literal('length'), Type.Literal('stop')]);
const TokenIds = Type.Optional(Type.Array(Type.Integer()));

export const CompletionReply = Type.Object({
  id: Type.String(),
  object: Type.Literal('text_completion'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(
    Type.Object({ index: Type.Integer(), text: Type.String(), logprobs: Type.Null(), finish_reason: FinishReason, token_ids: TokenIds }),
  ),
  usage: Usage,
});

export const ChatReply = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      message: Type.Object({ role: Type.Literal('assistant'), content: Type.String() }),
      logprobs: Type.Null(),
      finish_reason: FinishReason,
      token_ids: TokenIds,
    }),
  ),
  usage: Usage,
});

export const ModelsReply = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Type.Object({ id: Type.String(), object: Type.Literal('model'), created: Type.Integer(), owned_by: Type.String() })),
});

export const ErrorReply = Type.Object({
  error: Type.Object({ message: Type.String(), type: Type.String(), param: Type.Union([Type.String(), Type.Null()]), code: Type.String() }),
});
